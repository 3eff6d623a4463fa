/** The fleet console: the tenant list (admin key, no secret), the reverse proxy under /t/<PORT>/ (pages, docs, POST bodies, event streams, failures), TRUST_PROXY. */
import fs from 'node:fs'
import http from 'node:http'
import type net from 'node:net'
import path from 'node:path'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { parseConsoleConfig } from '../../src/config/console.js'
import { buildConsoleApp } from '../../src/console/app.js'
import { SHARED_PUBLIC_DIR } from '../../src/http/static-assets.js'
import type { FleetSource } from '../../src/console/fleet.js'
import { TEST_API_KEY, tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { FakeRunner, success, validCpfs, waitFor } from '../fixtures/batches.js'
import { ADMIN, ADMIN_KEY, startConsole, startFleetTenant } from '../fixtures/console.js'
import { freePort } from '../fixtures/net.js'

const AUTH = { authorization: `Bearer ${TEST_API_KEY}` }
const V8_PASSWORD = 'v8-senha-secreta-Zq9!'

async function get (url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const res = await request(url, { headers, signal: AbortSignal.timeout(10_000) })
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() }
}

t.test('GET /api/tenants: every tenant as the CLI sees it, for the admin key only, no secret', async (t) => {
  const root = tempRoot(t, 'cltv8-console-')
  const up = await freePort()
  const down = await freePort()
  await startFleetTenant(t, root, up, { TENANT_NAME: 'Cliente Ativo', V8_USERNAME: 'op@example.com', V8_PASSWORD })
  writeTenantConfig(root, down, { TENANT_NAME: 'Cliente Parado' })
  fs.writeFileSync(path.join(root, 'tenants', 'config-6003.env'), "PORT='6003'\nV8_MAX_RPS='abc'\n", { mode: 0o600 })
  fs.mkdirSync(path.join(root, 'logs', String(up)), { recursive: true })
  fs.writeFileSync(path.join(root, 'logs', String(up), 'error.log'), '{"level":50}\n')
  const pm2 = async () => [{ name: `clt-v8-api-${up}`, status: 'online', restarts: 2, pid: 1 }, { name: `clt-v8-api-${down}`, status: 'stopped', restarts: 0, pid: 0 }]
  let admin = ADMIN_KEY
  const c = await startConsole(t, root, { pm2, adminKey: () => admin })

  const refused = await get(`${c.url}/api/tenants`)
  t.equal(refused.status, 401, 'no key → 401')
  t.match(JSON.parse(refused.body), { error: 'nao_autorizado', message: /ADMIN_KEY/ }, 'the answer names the admin key, not an API key')
  t.equal((await get(`${c.url}/api/tenants`, AUTH)).status, 401, "a tenant's key is not the console's")
  const res = await get(`${c.url}/api/tenants`, ADMIN)
  t.equal(res.status, 200, 'the admin key → 200')
  const body = JSON.parse(res.body)
  t.equal(body.success, true, 'success')
  const byPort = Object.fromEntries(body.tenants.map((r: { port: number }) => [r.port, r]))
  t.same(Object.keys(byPort).map(Number).sort((a, b) => a - b), [up, down, 6003].sort((a, b) => a - b), 'every tenant file, valid or not')
  t.match(byPort[up], {
    name: 'Cliente Ativo',
    target: `127.0.0.1:${up}`,
    config: 'ok',
    pm2: 'online',
    restarts: 2,
    health: 'OK',
    v8_login: true,
    token: { cached: false, age_s: null },
    batches: { running: 0, pending: 0 },
    last_error_at: /^\d{4}-\d\d-\d\dT/,
    bad_port: false,
    links: { page: `t/${up}/config-v8`, docs: `t/${up}/docs/` },
  }, 'the running tenant: PM2, health, login set, token, batches, last error')
  t.match(byPort[down], { name: 'Cliente Parado', pm2: 'stopped', health: 'down', v8_login: false, token: null, batches: null, last_error_at: null }, 'the stopped one')
  t.match(byPort[6003], { config: 'invalid', config_error: /API_KEY is missing/, pm2: 'not in pm2', bad_port: false }, 'the invalid one, with the reason')
  for (const secret of [TEST_API_KEY, V8_PASSWORD, ADMIN_KEY]) t.notOk(res.body.includes(secret), 'no key or password in the JSON')

  admin = 'rotated-admin-key-0123456789abcdef0123456789'
  t.equal((await get(`${c.url}/api/tenants`, ADMIN)).status, 401, 'a rotated admin key: the old one is refused at once')
  t.equal((await get(`${c.url}/api/tenants`, { authorization: `Bearer ${admin}` })).status, 200, 'and the new one works')

  const page = await get(`${c.url}/`)
  t.equal(page.status, 200, 'the console page is public (it asks for the key)')
  t.match(String(page.headers['content-security-policy']), /script-src 'self';/, 'with the strict CSP')
  t.match(page.body, /<script type="module" src="console\/main\.js">/, 'an ES module, by a relative URL')
  t.equal((await get(`${c.url}/console/main.js`)).status, 200, 'its module is served')
  for (const file of ['base.css', 'api-core.js', 'page-frame.js']) {
    const shared = await get(`${c.url}/console/${file}`)
    t.equal(shared.status, 200, `the shared ${file} is served beside the console's own files`)
    t.equal(shared.body, fs.readFileSync(path.join(SHARED_PUBLIC_DIR, file), 'utf8'), `${file}: the one file the tenant page serves too`)
    t.match(String(shared.headers['content-security-policy']), /script-src 'self';/, `${file}: under the same CSP`)
  }
  for (const url of ['/shared/base.css', '/console/shared/base.css', '/console/console.css', '/console.html', '/console/../package.json']) {
    t.equal((await get(`${c.url}${url}`)).status, 404, `${url} → 404: nothing else of the folders`)
  }
  t.equal((await get(`${c.url}/health`)).status, 200, 'the console /health')
})

t.test('the proxy: page, docs, API calls with bodies, unknown and stopped tenants', async (t) => {
  const root = tempRoot(t, 'cltv8-console-')
  const port = await freePort()
  const stopped = await freePort()
  await startFleetTenant(t, root, port, { TENANT_NAME: 'Cliente A' })
  writeTenantConfig(root, stopped, { TENANT_NAME: 'Parado' })
  const c = await startConsole(t, root)
  const base = `${c.url}/t/${port}`

  const page = await get(`${base}/config-v8`)
  t.equal(page.status, 200, "the tenant's page through the console")
  t.match(page.body, /href="config-v8\/app\.css"/, 'its assets are relative: they resolve under /t/<PORT>/')
  t.equal((await get(`${base}/config-v8/main.js`)).status, 200, 'a module of the page, through the prefix')
  const tenantBase = await get(`${base}/config-v8/base.css`)
  t.equal(tenantBase.status, 200, "the tenant's copy of the shared stylesheet, through the prefix")
  t.not(tenantBase.headers['etag'], undefined, 'with its ETag')
  t.equal(tenantBase.headers['etag'], (await get(`${c.url}/console/base.css`)).headers['etag'], "the same bytes as the console's (one file)")
  t.equal((await get(`${base}/config/tenant`)).status, 401, 'the API through the console still needs the tenant key')
  const tenantView = await get(`${base}/config/tenant`, AUTH)
  t.equal(tenantView.status, 200, 'and answers with it')

  const created = await request(`${base}/clt/lotes`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ cpfs: validCpfs(3) }) })
  const createdBody = await created.body.json() as { lote_id: string }
  t.equal(created.statusCode, 202, 'a POST with a JSON body through the console')
  t.ok(createdBody.lote_id, 'the tenant read the body')
  const bad = await request(`${base}/clt/lotes`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"cpfs": [' })
  t.equal(bad.statusCode, 400, "a broken body gets the tenant's own 400")
  t.equal(((await bad.body.json()) as { error: string }).error, 'json_invalido', 'in the one error shape')

  const root302 = await get(`${c.url}/t/${port}`)
  t.equal(root302.status, 302, '/t/<PORT> redirects')
  t.equal(root302.headers['location'], `/t/${port}/config-v8`, 'to its page')
  const docs302 = await get(`${base}/docs`)
  t.equal(docs302.headers['location'], `/t/${port}/docs/`, '/docs → /docs/ (Swagger UI then loads its assets relative to itself)')
  const docs = await get(`${base}/docs/`)
  t.equal(docs.status, 200, 'Swagger UI through the console')
  t.match(docs.body, /src="\.\/static\/swagger-ui-bundle\.js"/, 'with relative asset URLs')
  t.equal((await get(`${base}/docs/static/swagger-ui-bundle.js`)).status, 200, 'its bundle')
  const spec = await get(`${base}/docs/json`)
  t.equal(spec.status, 200, 'the OpenAPI document')
  t.match(String(spec.headers['content-type']), /json/, 'as JSON')

  const unknown = await get(`${c.url}/t/1234/health`)
  t.equal(unknown.status, 404, 'a port that is not a tenant: 404, never forwarded')
  t.equal(JSON.parse(unknown.body).error, 'tenant_desconhecido', 'says so')
  t.equal((await get(`${c.url}/t/99999/health`)).status, 404, 'a number that is no port: 404')
  const down = await get(`${c.url}/t/${stopped}/health`)
  t.equal(down.status, 502, 'a tenant that does not answer: 502')
  t.equal(JSON.parse(down.body).error, 'tenant_indisponivel', 'in the one error shape')
})

t.test('an event stream through the console arrives as it is written', async (t) => {
  const root = tempRoot(t, 'cltv8-console-')
  const port = await freePort()
  const runner = new FakeRunner({ step: (cpf) => success(cpf) })
  const open = runner.hold()
  await startFleetTenant(t, root, port, {}, { runner })
  const c = await startConsole(t, root)
  const base = `${c.url}/t/${port}`
  const created = await request(`${base}/clt/lotes`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ cpfs: validCpfs(2) }) })
  const { lote_id: id } = await created.body.json() as { lote_id: string }
  const res = await request(`${base}/clt/lotes/${id}/eventos`, { headers: AUTH, signal: AbortSignal.timeout(20_000) })
  t.equal(res.statusCode, 200, 'the stream opens through the console')
  t.match(String(res.headers['content-type']), /^text\/event-stream/, 'as an event stream')
  let text = ''
  const reading = (async () => {
    for await (const chunk of res.body) {
      text += chunk.toString()
      if (text.includes('event: done')) break
    }
  })()
  // The workers are held: what arrives now was written before any item finished, so nothing waits for the end.
  await waitFor('the first events through the proxy', () => text.includes('retry:') && text.includes('event: progress'), 10_000)
  t.notOk(text.includes('event: done'), 'the stream is open and the batch not finished yet')
  open()
  await reading
  t.match(text, /event: item\n/, 'items as they finish')
  t.match(text, /event: done\n/, 'and the end')
})

t.test('a redirect a tenant answers with an absolute path stays under its prefix', async (t) => {
  const upstream = http.createServer((req, res) => {
    res.writeHead(302, { location: '/config-v8', 'x-seen-path': req.url ?? '', 'x-seen-forwarded-prefix': String(req.headers['x-forwarded-prefix']) })
    res.end()
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => upstream.close(() => resolve())))
  const { port } = upstream.address() as net.AddressInfo
  const fleet: FleetSource = { rows: async () => [], target: (p) => (p === 6000 ? { port: 6000, origin: `http://127.0.0.1:${port}` } : undefined) }
  const app = await buildConsoleApp({ config: () => ({ PORT: 7000, HOST: '127.0.0.1', ADMIN_KEY, LOG_LEVEL: 'silent', TRUST_PROXY: false }), fleet, logger: pino({ level: 'silent' }) })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/t/6000/antigo?x=1' })
  t.equal(res.statusCode, 302, 'the redirect passes')
  t.equal(res.headers['location'], '/t/6000/config-v8', 'its Location is rewritten under /t/6000')
  t.equal(res.headers['x-seen-path'], '/antigo?x=1', 'the tenant saw its own path and query, without the prefix')
  t.equal(res.headers['x-seen-forwarded-prefix'], '/t/6000', 'and was told the prefix')
})

/** The console over a fleet of one echo server (it answers with the X-Forwarded-For it was sent), with `settings` as console.env. */
async function echoConsole (t: Test, settings: string) {
  const upstream = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ forwardedFor: req.headers['x-forwarded-for'] }))
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => upstream.close(() => resolve())))
  const { port } = upstream.address() as net.AddressInfo
  const fleet: FleetSource = { rows: async () => [], target: (p) => (p === 6000 ? { port: 6000, origin: `http://127.0.0.1:${port}` } : undefined) }
  const config = parseConsoleConfig(`ADMIN_KEY='${ADMIN_KEY}'\nLOG_LEVEL='silent'\n${settings}`, 'console.env')
  const app = await buildConsoleApp({ config: () => config, fleet, logger: pino({ level: 'silent' }) })
  t.teardown(() => app.close())
  // Every request arrives from 127.0.0.1 (inject's default), as from Caddy on this machine.
  const tenants = (client: string, key: string) => app.inject({ method: 'GET', url: '/api/tenants', headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': client } })
  return { app, tenants }
}

t.test('TRUST_PROXY=127.0.0.1 behind Caddy: wrong admin keys lock out one browser, not every operator', async (t) => {
  const { app, tenants } = await echoConsole(t, "TRUST_PROXY='127.0.0.1'\n")
  for (let i = 0; i < 10; i++) t.equal((await tenants('203.0.113.1', 'wrong-admin-key')).statusCode, 401, `wrong key ${i + 1} from one browser → 401`)
  const locked = await tenants('203.0.113.1', ADMIN_KEY)
  t.equal(locked.statusCode, 429, 'that browser is locked out, the right key included')
  t.ok(Number(locked.headers['retry-after']) > 0, 'with Retry-After')
  t.equal((await tenants('203.0.113.2', ADMIN_KEY)).statusCode, 200, 'another browser behind the same Caddy still gets in')
  const proxied = await app.inject({ method: 'GET', url: '/t/6000/x', headers: { 'x-forwarded-for': '203.0.113.2' } })
  t.equal(proxied.json().forwardedFor, '203.0.113.2, 127.0.0.1', "a tenant is told the chain with this console's own hop (the socket's peer)")
})

t.test('without TRUST_PROXY the console ignores X-Forwarded-For: the socket is the client', async (t) => {
  const { tenants } = await echoConsole(t, '')
  for (let i = 0; i < 10; i++) t.equal((await tenants(`203.0.113.${i + 1}`, 'wrong-admin-key')).statusCode, 401, `wrong key ${i + 1} → 401`)
  t.equal((await tenants('198.51.100.7', ADMIN_KEY)).statusCode, 429, 'a different X-Forwarded-For does not escape the lockout of 127.0.0.1')
})

t.test('console.env TRUST_PROXY: the tenants\' syntax, true refused', async (t) => {
  const parse = (v: string) => parseConsoleConfig(`ADMIN_KEY='${ADMIN_KEY}'\nTRUST_PROXY='${v}'\n`, 'console.env').TRUST_PROXY
  t.same(parse('127.0.0.1, 10.0.0.0/8'), ['127.0.0.1', '10.0.0.0/8'], 'addresses and CIDRs')
  t.equal(parse('1'), 1, 'a hop count')
  t.equal(parse(''), false, 'empty = off')
  t.throws(() => parse('true'), /console\.env: TRUST_PROXY true is no longer accepted/, 'true refused, with the reason')
  t.throws(() => parse('proxy.example.com'), /TRUST_PROXY "proxy\.example\.com" is not an address/, 'a name refused')
})
