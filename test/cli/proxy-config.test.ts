/** tenant:proxy: the generated Caddyfile (console site + one path per tenant), checked by Caddy itself and run in front of a real tenant and console. */
import { spawn, execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { pino } from 'pino'
import t from 'tap'
import { Agent, request } from 'undici'
import { renderCaddyfile } from '../../src/cli/proxy-config.js'
import { parseConsoleConfig } from '../../src/config/console.js'
import { loadTenantConfig } from '../../src/config/load.js'
import { ConfigStore } from '../../src/config/store.js'
import { openDatabase } from '../../src/db/database.js'
import { buildConsoleApp } from '../../src/console/app.js'
import { LocalFleet } from '../../src/console/fleet.js'
import { createTenant } from '../../src/tenant.js'
import { TEST_API_KEY, tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'

const CADDY = '/usr/bin/caddy'
const run = promisify(execFile)

t.test('the Caddyfile: console site, one stripped path per tenant, no secret, bad input refused', async (t) => {
  const root = tempRoot(t, 'cltv8-caddy-')
  writeTenantConfig(root, 6000, { TENANT_NAME: 'Cliente A' })
  writeTenantConfig(root, 6001, { TENANT_NAME: 'Cliente B', HOST: '10.0.0.5' })
  fs.writeFileSync(path.join(root, 'tenants', 'config-6002.env'), "PORT='6002'\nV8_MAX_RPS='abc'\n", { mode: 0o600 })
  const r = renderCaddyfile({ root, consoleSite: 'console.example.com.br', apiSite: 'clt.example.com.br', email: 'ops@example.com.br' })
  t.same(r.tenants, [6000, 6001], 'the valid tenants')
  t.match(r.skipped.join('\n'), /6002: invalid config/, 'the invalid one named')
  t.match(r.text, /^console\.example\.com\.br \{\n\treverse_proxy 127\.0\.0\.1:7000 \{/m, 'console site → the console on loopback:7000')
  t.match(r.text, /\thandle_path \/6000\/\* \{\n\t\treverse_proxy 127\.0\.0\.1:6000 \{/, 'tenant 6000 under /6000/')
  t.match(r.text, /\thandle_path \/6001\/\* \{\n\t\treverse_proxy 10\.0\.0\.5:6001 \{/, 'tenant 6001 at the address it listens on')
  t.match(r.text, /\temail ops@example\.com\.br/, 'the ACME e-mail')
  t.notOk(r.text.includes(TEST_API_KEY), 'no API key in it')
  t.notOk(r.text.includes('6002 {') || r.text.includes('/6002/'), 'no route to the invalid tenant')
  t.throws(() => renderCaddyfile({ root, consoleSite: 'console.example.com {\n  respond hi' }), /not a site address/, 'a site address cannot inject directives')
  t.throws(() => renderCaddyfile({ root, consoleSite: 'ok.example.com', email: 'x y' }), /not an e-mail/, 'a bad e-mail')
  const only = renderCaddyfile({ root, consoleSite: 'console.example.com.br' })
  t.notOk(only.text.includes('handle_path'), 'without --api: only the console is published')

  if (fs.existsSync(CADDY)) {
    const file = path.join(root, 'Caddyfile')
    fs.writeFileSync(file, r.text)
    const home = fs.mkdtempSync(path.join(root, 'caddy-home-'))
    const { stderr } = await run(CADDY, ['validate', '--adapter', 'caddyfile', '--config', file], { env: { ...process.env, HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home } }).catch((err: { stderr?: string; message: string }) => {
      t.fail(`caddy validate: ${err.stderr ?? err.message}`)
      return { stderr: '' }
    })
    t.pass(`caddy validate accepts it${/warn/i.test(stderr) ? ' (with warnings)' : ''}`)
  } else {
    t.comment(`${CADDY} not found: caddy validate skipped (apt-get install -y caddy)`)
  }
})

if (!fs.existsSync(CADDY)) {
  t.comment(`${CADDY} not found: the running-Caddy test is skipped (apt-get install -y caddy)`)
} else {
  t.test('Caddy running the generated file: the console and a tenant\'s API through it', { timeout: 90_000 }, async (t) => {
    const root = tempRoot(t, 'cltv8-caddy-')
    const port = await freePort()
    writeTenantConfig(root, port, { TENANT_NAME: 'Cliente A' })
    const loaded = loadTenantConfig(root, port)
    const tenant = await createTenant({ config: new ConfigStore(loaded.config, loaded.file), db: openDatabase(':memory:'), logger: pino({ level: 'silent' }), batch: { start: false }, events: { start: false } })
    t.teardown(() => tenant.close())
    await tenant.app.listen({ port, host: '127.0.0.1' })
    const consolePort = await freePort()
    const admin = 'console-admin-key-0123456789abcdef0123456789'
    // console.env as README's Caddy section says to write it.
    const settings = parseConsoleConfig(`PORT='${consolePort}'\nADMIN_KEY='${admin}'\nLOG_LEVEL='silent'\nTRUST_PROXY='127.0.0.1'\n`, 'console.env')
    const consoleApp = await buildConsoleApp({ config: () => settings, fleet: new LocalFleet({ root, pm2List: async () => undefined }), logger: pino({ level: 'silent' }) })
    t.teardown(() => consoleApp.close())
    await consoleApp.listen({ port: consolePort, host: '127.0.0.1' })

    const [consoleSite, apiSite] = [await freePort(), await freePort()]
    const r = renderCaddyfile({ root, consoleSite: `http://127.0.0.1:${consoleSite}`, apiSite: `http://127.0.0.1:${apiSite}`, console: { PORT: consolePort, HOST: '127.0.0.1' } })
    const file = path.join(root, 'Caddyfile')
    // The test's own global options first: no admin endpoint (several tests may run Caddy at once).
    fs.writeFileSync(file, '{\n\tadmin off\n}\n' + r.text)
    const home = fs.mkdtempSync(path.join(root, 'caddy-home-'))
    const caddy = spawn(CADDY, ['run', '--adapter', 'caddyfile', '--config', file], { env: { ...process.env, HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    caddy.stderr.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-4000) })
    t.teardown(async () => {
      if (caddy.exitCode === null) {
        const exited = new Promise((resolve) => caddy.once('exit', resolve))
        caddy.kill('SIGTERM')
        await Promise.race([exited, sleep(10_000)])
        if (caddy.exitCode === null) caddy.kill('SIGKILL')
      }
    })
    // Two browsers: connections from 127.0.0.2 and 127.0.0.3 (loopback), which Caddy names in X-Forwarded-For.
    const browsers = [new Agent({ localAddress: '127.0.0.2' }), new Agent({ localAddress: '127.0.0.3' })] as const
    t.teardown(() => Promise.all(browsers.map((a) => a.close())))
    const get = async (url: string, headers: Record<string, string> = {}, dispatcher?: Agent): Promise<{ status: number; body: string }> => {
      const res = await request(url, { headers, signal: AbortSignal.timeout(5000), ...(dispatcher ? { dispatcher } : {}) })
      return { status: res.statusCode, body: await res.body.text() }
    }
    let health: { status: number; body: string } | undefined
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline && caddy.exitCode === null) {
      health = await get(`http://127.0.0.1:${apiSite}/${port}/health`).catch(() => undefined)
      if (health?.status === 200) break
      await sleep(300)
    }
    t.equal(health?.status, 200, `the tenant's /health through Caddy at /${port}/health (caddy: ${stderr.slice(-300)})`)
    t.match(JSON.parse(health?.body ?? '{}'), { status: 'OK', port }, 'the tenant answered')
    const api = await get(`http://127.0.0.1:${apiSite}/${port}/cache/simulacoes`, { authorization: `Bearer ${TEST_API_KEY}` })
    t.equal(api.status, 200, 'an authenticated API call through Caddy')
    t.equal((await get(`http://127.0.0.1:${apiSite}/1/health`)).status, 404, 'no route for a port that is not a tenant')
    const list = await get(`http://127.0.0.1:${consoleSite}/api/tenants`, { authorization: `Bearer ${admin}` })
    t.equal(list.status, 200, 'the console through Caddy')
    t.equal(JSON.parse(list.body).tenants[0].port, port, 'listing the tenant')
    const page = await get(`http://127.0.0.1:${consoleSite}/t/${port}/config-v8`)
    t.equal(page.status, 200, "the tenant's page through Caddy and the console")

    // Behind Caddy every browser reaches the console from 127.0.0.1; with TRUST_PROXY=127.0.0.1 it counts each one.
    const tenantsAs = (browser: Agent, key: string, headers: Record<string, string> = {}) => get(`http://127.0.0.1:${consoleSite}/api/tenants`, { authorization: `Bearer ${key}`, ...headers }, browser)
    for (let i = 0; i < 10; i++) t.equal((await tenantsAs(browsers[0], 'wrong-admin-key')).status, 401, `wrong admin key ${i + 1} from one browser → 401`)
    t.equal((await tenantsAs(browsers[0], admin)).status, 429, 'that browser is locked out')
    t.equal((await tenantsAs(browsers[0], admin, { 'x-forwarded-for': '127.0.0.9' })).status, 429, 'a forged X-Forwarded-For does not get it out (Caddy replaces it)')
    t.equal((await tenantsAs(browsers[1], admin)).status, 200, 'another browser behind the same Caddy still gets in')
  })
}
