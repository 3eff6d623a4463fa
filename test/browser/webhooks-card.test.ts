/** The config page's webhooks card in Chromium: V8 registration state, the deliveries to CALLBACK_URL, requeueing a dead one. */
import t from 'tap'
import { CHROMIUM_MISSING, chromiumPresent, launchBrowser, screenshots, startTenant } from '../fixtures/browser.js'
import { TEST_API_KEY } from '../fixtures/config.js'
import { waitFor } from '../fixtures/batches.js'
import { startReceiver } from '../fixtures/receiver.js'
import { http, startSandbox } from '../fixtures/sandbox.js'
import { CALLBACK_SECRET } from '../fixtures/webhooks.js'

if (!chromiumPresent()) {
  process.stderr.write(`${CHROMIUM_MISSING}\n`)
  t.plan(0, CHROMIUM_MISSING)
} else {
  t.test('the webhooks card: not registered without PUBLIC_URL, a dead delivery requeued and delivered', async (t) => {
    const sandbox = await startSandbox(t)
    await sandbox.configure({ consult_delay_ms: 50 })
    const rx = await startReceiver(t)
    rx.answer(503)
    const tenant = await startTenant(t, 6124, { ...sandbox.tenantConfig(), V8_MAX_RPS: '1000', CALLBACK_URL: `${rx.url}/eventos`, CALLBACK_SECRET, CALLBACK_MAX_ATTEMPTS: '1' })
    const [p] = await sandbox.people('ok', 1)
    t.equal((await http(tenant.url, 'POST', '/clt/fluxo-completo', { json: { cpf: p!.cpf }, token: TEST_API_KEY })).status, 200, 'a flow result, queued for the client')

    const browser = await launchBrowser(t)
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, locale: 'pt-BR' })
    page.setDefaultTimeout(10_000)
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of (401|503)/.test(m.text())) problems.push(`console: ${m.text()}`)
    })
    const { shot } = screenshots(t, page, 'webhooks')
    await page.goto(`${tenant.url}/config-v8`)
    await page.fill('#api-key', TEST_API_KEY)
    await page.click('#btn-entrar')
    await page.locator('#view-main').waitFor()
    await page.click('#card-hooks summary')
    await page.locator('#hook-consult', { hasText: 'Não configurado: defina PUBLIC_URL' }).waitFor()
    t.pass('without PUBLIC_URL the card says how V8 results arrive instead')
    t.match(await page.textContent('#badge-callback'), /CALLBACK_URL: configurado/, 'callbacks configured')
    await page.locator('#cb-rows td.st-morto').waitFor()
    t.match(await page.textContent('#cb-rows'), /fluxo\.concluido.*morto.*1.*HTTP 503/, 'the dead delivery, its attempts and the last answer')
    await shot('morto')
    rx.answer(200)
    await page.click('#cb-rows button')
    await page.locator('#hooks-alert.success', { hasText: 'Evento de volta à fila.' }).waitFor()
    await waitFor('the second delivery', () => rx.received.length === 2, 10_000, 20)
    await waitFor('recorded as delivered', () => tenant.services.outbox.counts().delivered === 1, 10_000, 20)
    await page.click('#btn-hooks-refresh')
    await page.locator('#cb-rows td.st-entregue').waitFor()
    t.match(await page.textContent('#cb-counts'), /1 entregues/, 'delivered after the requeue')
    t.equal(rx.received.at(-1)?.json?.tipo, 'fluxo.concluido', 'the client got it')
    await shot('entregue')
    t.same(problems, [], 'no page error or CSP violation')
  })
}
