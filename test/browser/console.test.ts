/**
 * The fleet console in Chromium: the list, a tenant on a port browsers refuse opened and used through /t/<PORT>/,
 * its /docs, an event stream through the proxy, at desktop and phone width, with screenshots.
 */
import t from 'tap'
import { CHROMIUM_MISSING, chromiumPresent, launchBrowser, screenshots } from '../fixtures/browser.js'
import { TEST_API_KEY, tempRoot } from '../fixtures/config.js'
import { FakeRunner, success, validCpfs } from '../fixtures/batches.js'
import { ADMIN_KEY, freeBadPort, startConsole, startFleetTenant } from '../fixtures/console.js'
import { freePort } from '../fixtures/net.js'
import { startSandbox } from '../fixtures/sandbox.js'

if (!chromiumPresent()) {
  process.stderr.write(`${CHROMIUM_MISSING}\n`)
  t.plan(0, CHROMIUM_MISSING)
} else {
  t.test('console: list, a bad-port tenant page used through /t/<PORT>/, docs, an event stream; desktop and phone', async (t) => {
    const root = tempRoot(t, 'cltv8-console-browser-')
    const sandbox = await startSandbox(t)
    const bad = await freeBadPort()
    const good = await freePort()
    await startFleetTenant(t, root, bad, { ...sandbox.tenantConfig(), TENANT_NAME: 'Promotora Porta Recusada' }, { runner: new FakeRunner({ step: (cpf) => success(cpf), delayMs: 300 }) })
    await startFleetTenant(t, root, good, { TENANT_NAME: 'Cliente Sem Login' })
    const pm2 = async () => [{ name: `clt-v8-api-${bad}`, status: 'online', restarts: 0, pid: 1 }, { name: `clt-v8-api-${good}`, status: 'online', restarts: 1, pid: 2 }]
    const c = await startConsole(t, root, { pm2 })

    const browser = await launchBrowser(t)
    const context = await browser.newContext({ viewport: { width: 1280, height: 760 }, locale: 'pt-BR' })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    const problems: string[] = []
    const foreign: string[] = []
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      // 401s the test provokes are logged by Chromium as failed loads; anything else (CSP violations included) is a problem.
      if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 401/.test(m.text())) problems.push(`console: ${m.text()}`)
    })
    page.on('request', (r) => {
      if (!r.url().startsWith(c.url) && !r.url().startsWith('data:')) foreign.push(r.url())
    })
    const { shot } = screenshots(t, page, 'console')

    // 0. The reason the console exists: Chromium refuses the tenant's own port. In a page of its own: Chromium then
    // moves that page to its error page, which would interrupt the next navigation of a shared one.
    const probe = await context.newPage()
    const direct = await probe.goto(`http://127.0.0.1:${bad}/config-v8`).then(() => 'loaded', (err: Error) => err.message)
    t.match(direct, /ERR_UNSAFE_PORT/, `Chromium refuses http://127.0.0.1:${bad}/ (${direct.split('\n')[0]})`)
    await probe.close()

    // 1. The console asks for its key; a wrong one says so.
    await page.goto(`${c.url}/`)
    await page.locator('#view-key').waitFor()
    await shot('chave')
    await page.fill('#admin-key', 'chave-errada-0123456789')
    await page.click('#btn-entrar')
    await page.locator('#key-error:not([hidden])', { hasText: 'Chave do console incorreta.' }).waitFor()
    t.pass('wrong key → "Chave do console incorreta."')
    await page.fill('#admin-key', ADMIN_KEY)
    await page.click('#btn-entrar')
    await page.locator('#fleet').waitFor()
    const rows = page.locator('#fleet-rows tr')
    t.equal(await rows.count(), 2, 'two tenants listed')
    const badRow = page.locator(`#fleet-rows tr[data-port="${bad}"]`)
    t.match(await badRow.textContent(), /Promotora Porta Recusada/, 'the bad-port tenant by name')
    t.match(await badRow.locator('td.port').textContent(), /o navegador recusa esta porta/, 'its port is flagged')
    t.equal((await badRow.locator('td.health').textContent())?.trim().startsWith('OK'), true, 'health OK')
    t.match(await badRow.locator('td.v8').textContent(), /definido/, 'V8 login set')
    t.match(await page.locator(`#fleet-rows tr[data-port="${good}"] td.v8`).textContent(), /não definido/, 'the other has no login')
    t.match(await page.locator(`#fleet-rows tr[data-port="${good}"] td.pm2`).textContent(), /online.*1 reinício$/, 'PM2 state and restarts')
    t.match(await page.textContent('#summary'), /2 tenants · 2 respondendo/, 'the summary line')
    await shot('lista')

    // 2. Phone width: the rows become cards, nothing overflows sideways.
    await page.setViewportSize({ width: 390, height: 844 })
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    t.ok(overflow <= 0, `no horizontal scroll at 390 px (${overflow})`)
    await shot('lista-celular')
    await page.setViewportSize({ width: 1280, height: 760 })

    // 3. The bad-port tenant's page through the console: its key, then its V8 card.
    await badRow.locator('a.page-link').click()
    await page.waitForURL(`${c.url}/t/${bad}/config-v8`)
    await page.locator('#view-key').waitFor()
    await page.fill('#api-key', TEST_API_KEY)
    await page.click('#btn-entrar')
    await page.locator('#view-main').waitFor()
    t.equal((await page.textContent('#tenant-line'))?.trim(), `Promotora Porta Recusada · porta ${bad}`, 'the tenant page, through the console')
    t.equal((await page.textContent('#v8-user'))?.trim(), 'demo@sandbox.local', 'its V8 card shows the login')
    await page.click('#btn-verificar')
    await page.locator('#reach[data-state="ok"]').waitFor()
    t.pass('"Verificar agora" reaches V8 (the sandbox) through the console')
    t.equal(await page.evaluate(() => sessionStorage.getItem(`clt-v8.api-key:${location.pathname.replace(/config-v8$/, '')}`)), TEST_API_KEY, 'its key kept under its own prefix')
    t.equal(await page.evaluate(() => sessionStorage.getItem('clt-v8.api-key')), null, 'not under the name another tenant would read')
    await shot('tenant-pela-console')
    await page.setViewportSize({ width: 390, height: 844 })
    await shot('tenant-pela-console-celular')
    await page.setViewportSize({ width: 1280, height: 760 })

    // 4. An event stream through the console, read by the page's own fetch (the key in a header, as clients send it).
    const events = await page.evaluate(async ({ key, cpfs }) => {
      const headers = { authorization: 'Bearer ' + key, 'content-type': 'application/json' }
      const created = await fetch('clt/lotes', { method: 'POST', headers, body: JSON.stringify({ cpfs }) }).then((r) => r.json())
      const res = await fetch(created.eventos_url.replace(/^\//, ''), { headers })
      const reader = res.body!.getReader()
      const decoder = new TextDecoder()
      let text = ''
      const chunks: number[] = []
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        text += decoder.decode(value)
        chunks.push(text.length)
        if (text.includes('event: done')) break
      }
      await reader.cancel().catch(() => undefined)
      return { type: res.headers.get('content-type'), text, chunks: chunks.length }
    }, { key: TEST_API_KEY, cpfs: validCpfs(3) })
    t.match(events.type, /^text\/event-stream/, 'the stream through the console')
    t.equal((events.text.match(/event: item\n/g) ?? []).length, 3, 'one item event per CPF')
    t.match(events.text, /event: done\n/, 'and done')
    t.ok(events.chunks > 1, `arriving in several pieces as written (${events.chunks}), not buffered to the end`)

    // 5. /docs through the console.
    await page.goto(`${c.url}/t/${bad}/docs`)
    await page.waitForURL(`${c.url}/t/${bad}/docs/`)
    await page.locator('.swagger-ui .info .title').waitFor()
    t.match(await page.textContent('.swagger-ui .info .title'), /clt-v8 — API do tenant Promotora Porta Recusada/, 'Swagger UI of the tenant')
    await page.locator('.opblock-tag', { hasText: 'Lotes' }).first().waitFor()
    t.pass('its operations are listed (the OpenAPI document loaded through the prefix)')
    await shot('docs-pela-console')

    t.same(problems, [], 'no page error, console error or CSP violation')
    t.same(foreign, [], 'every request went to the console')
    t.same(await context.cookies(), [], 'no cookie')
  })
}
