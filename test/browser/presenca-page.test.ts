/** The /config-v8 page in Chromium shows PresençaBank's state: not configured, reachable after a check, the last failure. */
import t from 'tap'
import { CHROMIUM_MISSING, chromiumPresent, launchBrowser, screenshots, startTenant } from '../fixtures/browser.js'
import { TEST_API_KEY } from '../fixtures/config.js'
import { http, startSandbox } from '../fixtures/sandbox.js'

const PORT = 6124

if (!chromiumPresent()) {
  process.stderr.write(`${CHROMIUM_MISSING}\n`)
  t.plan(0, CHROMIUM_MISSING)
} else {
  t.test('PresençaBank on the config page: state, check of the saved login, the last error in words', async (t) => {
    const sandbox = await startSandbox(t)
    await sandbox.configure({ presenca_rpm: 10_000, presenca_sign_delay_ms: 0 })
    const tenant = await startTenant(t, PORT, { ...sandbox.tenantConfig(), PRESENCABANK_LOGIN: '', PRESENCABANK_PASSWORD: '', TENANT_NAME: 'Promotora Exemplo', PRESENCABANK_MAX_RPM: '600' })
    const browser = await launchBrowser(t)
    const context = await browser.newContext({ viewport: { width: 1100, height: 1400 }, locale: 'pt-BR' })
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of (401|502)/.test(m.text())) problems.push(`console: ${m.text()}`)
    })
    const { shot } = screenshots(t, page, 'presenca')
    const text = async (sel: string): Promise<string> => ((await page.textContent(sel)) ?? '').trim()

    await page.goto(`${tenant.url}/config-v8`)
    await page.fill('#api-key', TEST_API_KEY)
    await page.click('#btn-entrar')
    await page.locator('#view-main').waitFor()
    await page.click('#card-int summary')
    await page.locator('#presenca-estado[data-state="warn"]').waitFor()
    t.equal(await text('#presenca-estado-titulo'), 'PresençaBank: não configurado', 'not configured')
    t.equal(await text('#badge-presenca'), 'PresençaBank: não configurado', 'header badge agrees')
    t.ok(await page.isHidden('#btn-presenca-verificar'), 'nothing to check without a login')
    await page.locator('#presenca-estado').scrollIntoViewIfNeeded()
    await shot('nao-configurado')

    // A wrong password saved: the check says "login recusado" in words, and the state turns red.
    await page.fill('#presenca-login', 'demo')
    await page.fill('#presenca-senha', 'senha-errada')
    await page.click('#btn-salvar-int')
    await page.locator('#int-alert.success:not([hidden])').waitFor()
    t.equal(await text('#badge-presenca'), 'PresençaBank: configurado', 'configured once saved')
    await page.locator('#presenca-estado[data-state="unknown"]').waitFor()
    t.match(await text('#presenca-estado-detalhe'), /Verificar login.*Limite: 600 chamadas\/min/, 'no login yet; the pace shown')
    await page.click('#btn-presenca-verificar')
    await page.locator('#int-alert.error:not([hidden])').waitFor()
    t.match(await text('#int-alert .alert-text'), /O PresençaBank não aceitou: Login recusado pelo PresençaBank \(o PresençaBank responde HTTP 500 a login ou senha errados\)/, 'the refusal in words')
    await page.locator('#presenca-estado[data-state="error"]').waitFor()
    t.match(await text('#presenca-estado-titulo'), /PresençaBank: falha no último acesso/, 'state: last failure')
    t.match(await text('#presenca-estado-detalhe'), /Login recusado/, 'with its reason')
    t.notOk((await page.content()).includes('senha-errada'), 'the password is not on the page')
    await page.locator('#presenca-estado').scrollIntoViewIfNeeded()
    await shot('login-recusado')

    // The right password: the check passes, the state shows the token and the pace.
    await page.fill('#presenca-senha', 'sandbox')
    await page.click('#btn-salvar-int')
    await page.locator('#int-alert.success:not([hidden])').waitFor()
    await page.click('#btn-presenca-verificar')
    await page.locator('#presenca-estado[data-state="ok"]').waitFor()
    t.equal(await text('#presenca-estado-titulo'), 'PresençaBank: acessível', 'reachable')
    t.match(await text('#presenca-estado-detalhe'), /^Login válido; expira em 10 h\. Limite: 600 chamadas\/min\.$/, 'token lifetime and pace')
    await page.locator('#presenca-estado').scrollIntoViewIfNeeded()
    await shot('acessivel')

    // The API agrees with the page.
    const health = await http(tenant.url, 'GET', '/health')
    t.match(health.body.checks.presencabank, { configured: true, token_cached: true, last_error: null }, '/health agrees')
    t.same(problems, [], 'no page errors')
  })
}
