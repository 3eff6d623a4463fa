import fs from 'node:fs'
import t from 'tap'
import { CHROMIUM_MISSING, chromiumPresent, launchBrowser, screenshots, startTenant } from '../fixtures/browser.js'
import { TEST_API_KEY } from '../fixtures/config.js'
import { http, startSandbox } from '../fixtures/sandbox.js'

const PORT = 6123
const NEW_USER = 'operador@sandbox.local'
const XSS_SAVED = '<img/src=x/onerror=alert(1)>@x.com'
const XSS_FILE = '<img src=x onerror=alert(1)>@x.com'

if (!chromiumPresent()) {
  process.stderr.write(`${CHROMIUM_MISSING}\n`)
  t.plan(0, CHROMIUM_MISSING)
} else {
  t.test('the /config-v8 page in Chromium: key, card, edit, test, save, next V8 call, XSS as text', async (t) => {
    const sandbox = await startSandbox(t)
    const tenant = await startTenant(t, PORT, { ...sandbox.tenantConfig(), V8_USERNAME: '', V8_PASSWORD: '', TENANT_NAME: 'Promotora Exemplo' })
    const browser = await launchBrowser(t)
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'pt-BR' })
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    const dialogs: string[] = []
    const problems: string[] = []
    const foreign: string[] = []
    page.on('dialog', (d) => {
      dialogs.push(d.message())
      void d.dismiss()
    })
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      // 4xx/5xx answers the test provokes are logged by Chromium as failed loads; anything else (CSP violations included) is a problem.
      if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of (400|401|429|502)/.test(m.text())) problems.push(`console: ${m.text()}`)
    })
    page.on('request', (r) => {
      if (!r.url().startsWith(tenant.url) && !r.url().startsWith('data:')) foreign.push(r.url())
    })
    const { shot } = screenshots(t, page, 'config')
    const text = async (sel: string): Promise<string> => ((await page.textContent(sel)) ?? '').trim()
    const waitAlert = (sel: string, kind: 'error' | 'success', has: string | RegExp) => page.locator(`${sel}.${kind}:not([hidden])`, { hasText: has }).waitFor()

    // 1. First visit: the key screen; a wrong key says so plainly.
    const res = await page.goto(`${tenant.url}/config-v8`)
    t.equal(res?.status(), 200, 'page shell served without a key')
    await page.locator('#view-key').waitFor()
    t.ok(await page.isHidden('#view-main'), 'nothing else shown before the key')
    await shot('chave')
    await page.fill('#api-key', 'chave-errada-0123456789')
    await page.click('#btn-entrar')
    await waitAlert('#key-error', 'error', 'Chave de API incorreta para esta porta.')
    t.pass('wrong key → "Chave de API incorreta para esta porta."')
    await shot('chave-errada')

    // 2. The right key: header and card; the key is kept in sessionStorage only.
    await page.fill('#api-key', TEST_API_KEY)
    await page.click('#btn-entrar')
    await page.locator('#view-main').waitFor()
    t.equal(await text('#tenant-line'), `Promotora Exemplo · porta ${PORT}`, 'header: tenant name and port')
    t.equal(await text('#v8-user'), 'Não configurado', 'card: no user yet')
    t.equal(await text('#v8-pass'), 'Não configurado', 'card: no password yet')
    t.match(await text('#reach-title'), /login não configurado/, 'header: V8 not configured')
    t.ok(await page.isHidden('#btn-verificar'), 'nothing to verify without a login')
    t.equal(await page.evaluate(() => sessionStorage.getItem('clt-v8.api-key')), TEST_API_KEY, 'key in sessionStorage')
    t.same(await context.cookies(), [], 'no cookie')
    t.notOk(page.url().includes(TEST_API_KEY), 'key not in the URL')
    await shot('cartao-nao-configurado')

    // 3. Edit: show/hide the password.
    await page.click('#btn-editar')
    await page.locator('#card-edit').waitFor()
    await page.fill('#v8-username', NEW_USER)
    await page.fill('#v8-password', 'senha-errada')
    await page.click('#btn-toggle-pw')
    t.equal(await page.getAttribute('#v8-password', 'type'), 'text', 'password shown')
    t.equal(await text('#btn-toggle-pw'), 'Ocultar', 'toggle says Ocultar')
    await shot('editar-senha-visivel')
    await page.click('#btn-toggle-pw')
    t.equal(await page.getAttribute('#v8-password', 'type'), 'password', 'password hidden again')

    // 4. Test a wrong password (slowed down so the busy state is visible): buttons disabled, then the reason.
    await sandbox.faults({ latency_ms: 800, routes: ['/oauth/token'], count: 1 })
    await page.click('#btn-testar')
    await page.locator('#btn-salvar:disabled').waitFor()
    t.ok(await page.isDisabled('#btn-testar'), 'Testar disabled while the request runs')
    t.ok(await page.isDisabled('#btn-editar') || (await page.isHidden('#btn-editar')), 'other buttons locked too')
    await shot('testando')
    await waitAlert('#edit-alert', 'error', 'Wrong email or password')
    t.match(await text('#edit-alert .alert-text'), /^Teste falhou: A V8 recusou o login: Wrong email or password\.$/, "the upstream's reason shown")
    t.notOk(await page.isDisabled('#btn-testar'), 'buttons enabled again')
    await shot('teste-senha-errada')
    await page.fill('#v8-password', 'sandbox')
    t.ok(await page.isVisible('#edit-alert'), 'the error stays while the user fixes the field')

    // 5. Test and save the right login; the card updates.
    await page.click('#btn-testar')
    await waitAlert('#edit-alert', 'success', 'Conexão OK')
    t.match(await text('#edit-alert .alert-text'), /Login aceito pela V8.*Nada foi salvo ainda/, 'test OK, nothing saved')
    t.equal(tenant.store.get().V8_USERNAME, '', 'testing saved nothing')
    await shot('teste-ok')
    await page.click('#btn-salvar')
    await waitAlert('#main-alert', 'success', 'Login da V8 salvo')
    t.ok(await page.isHidden('#card-edit'), 'edit form closed after saving')
    t.equal(await text('#v8-user'), NEW_USER, 'card shows the new user')
    t.equal(await text('#v8-pass'), '••••••••', 'card shows a masked password')
    await shot('salvo')

    // 6. The API and the file agree; the next V8 call uses the new login.
    const atual = await http(tenant.url, 'GET', '/config/v8/atual', { token: TEST_API_KEY })
    t.same(atual.body.config, { username: NEW_USER, password: '***' }, '/config/v8/atual agrees')
    t.match(fs.readFileSync(tenant.file, 'utf8'), new RegExp(`V8_USERNAME='${NEW_USER}'`), 'the config file holds the new user')
    const before = (await sandbox.stats()).tokens_by_user[NEW_USER] ?? 0
    await page.click('#btn-verificar')
    await page.locator('#reach[data-state="ok"]').waitFor()
    t.match(await text('#reach-title'), /V8: acessível/, 'header: V8 reachable')
    t.match(await text('#reach-detail'), /Token obtido há \d+ s; expira em \d+ h/, 'header: token age and lifetime')
    t.equal((await sandbox.stats()).tokens_by_user[NEW_USER], before + 1, 'the next V8 login used the new user')
    const ops = await http(tenant.url, 'GET', '/v8/operacoes', { token: TEST_API_KEY })
    t.equal(ops.status, 200, 'a BFF call works with the new login')
    t.equal((await sandbox.stats()).tokens_by_user[NEW_USER], before + 1, 'and reuses its cached token')
    await shot('v8-acessivel')

    // 7. A wrong audience is explained too.
    tenant.store.update({ V8_AUDIENCE: 'https://audiencia.errada' })
    await page.click('#btn-editar')
    await page.fill('#v8-password', 'sandbox')
    await page.click('#btn-testar')
    await waitAlert('#edit-alert', 'error', 'audience')
    t.match(await text('#edit-alert .alert-text'), /audience.*Service not enabled within domain/, 'wrong audience reason shown')
    await shot('teste-audience-errada')
    await page.click('#edit-alert .dismiss')
    t.ok(await page.isHidden('#edit-alert'), 'an error goes away when dismissed')
    tenant.store.update({ V8_AUDIENCE: 'https://bff.v8sistema.com' })

    // 8. Markup in a username is text, never HTML: saved through the page, and hand-written in the file.
    await page.fill('#v8-username', XSS_SAVED)
    await page.fill('#v8-password', 'sandbox')
    await page.click('#btn-salvar')
    await waitAlert('#main-alert', 'success', 'salvo')
    t.equal(await text('#v8-user'), XSS_SAVED, 'saved markup shown as text')
    tenant.store.update({ V8_USERNAME: XSS_FILE })
    await page.reload()
    await page.locator('#view-main').waitFor()
    t.ok(await page.isHidden('#view-key'), 'a reload keeps the key for the tab')
    t.equal(await text('#v8-user'), XSS_FILE, 'markup from the file shown as text')
    t.equal(await page.locator('main img').count(), 0, 'no <img> element was created')
    await page.waitForTimeout(300)
    t.same(dialogs, [], 'no dialog fired')
    await shot('xss-como-texto')

    // 9. The optional Kentro / PresençaBank block, secrets masked.
    await page.click('#card-int summary')
    await page.locator('#form-int').waitFor()
    t.equal(await page.inputValue('#kentro-key'), '', 'the Kentro key is never put in the form')
    t.match((await page.getAttribute('#kentro-key', 'placeholder')) ?? '', /definida/, 'placeholder says a key is set')
    t.equal(await page.inputValue('#kentro-queue'), '25', 'queue id shown')
    t.match(await page.textContent('#flow-gender'), /Nenhum — CPF sem sexo conhecido recebe 422/, 'the page says no default gender is declared, and what that means')
    t.match(await page.textContent('#flow-table'), /Sem seguro primeiro/, 'and which tables go first')
    await page.fill('#kentro-queue', '30')
    await page.fill('#kentro-pipelines', 'x;y')
    await page.click('#btn-salvar-int')
    await waitAlert('#int-alert', 'error', 'Pipelines do Kentro')
    await shot('integracoes-erro')
    await page.fill('#kentro-pipelines', '1,3')
    await page.click('#btn-salvar-int')
    await waitAlert('#int-alert', 'success', 'salvas')
    t.equal(tenant.store.get().KENTRO_QUEUE_ID, 30, 'queue id saved')
    t.equal(tenant.store.get().KENTRO_API_KEY, 'sandbox', 'blank key kept the stored one')
    await shot('integracoes-salvas')

    // 10. Leaving forgets the key.
    await page.click('#btn-sair')
    await page.locator('#view-key').waitFor()
    t.equal(await page.evaluate(() => sessionStorage.getItem('clt-v8.api-key')), null, 'key forgotten on Sair')

    t.same(problems, [], 'no page error, console error or CSP violation')
    t.same(foreign, [], 'no request left the tenant (no external asset)')
  })

  t.test('Swagger UI at /docs renders under the strict CSP', async (t) => {
    const tenant = await startTenant(t, PORT + 1, {})
    const browser = await launchBrowser(t)
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } })
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`)
    })
    const { shot } = screenshots(t, page, 'docs')
    await page.goto(`${tenant.url}/docs`)
    await page.locator('.opblock-tag', { hasText: 'Configuração' }).first().waitFor({ timeout: 15_000 })
    t.ok(await page.locator('.opblock-summary-path', { hasText: '/config/v8/salvar' }).count(), 'the salvar route is listed')
    await shot('docs')
    t.same(problems, [], 'no script error or CSP violation in Swagger UI')
  })
}
