import fs from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { loadTenantConfig } from '../../src/config/load.js'
import { CODE_DIR } from '../../src/config/paths.js'
import { renderEcosystem, TENANT_ENTRY_DEFAULTS } from '../../src/cli/ecosystem.js'
import { main } from '../../src/cli/tenant.js'
import { tempRoot } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { captureStdout } from '../fixtures/stdout.js'

// Never look at the operator's real PM2: point PM2_HOME at an empty folder (no daemon there).
process.env['PM2_HOME'] = fs.mkdtempSync(path.join(os.tmpdir(), 'p2-'))
t.teardown(() => fs.rmSync(process.env['PM2_HOME']!, { recursive: true, force: true }))

/** Run the CLI in-process, capturing what it prints. */
async function cli (args: string[]): Promise<{ code: number; out: string; err: string }> {
  let err = ''
  const { value: code, out } = await captureStdout(() =>
    main(args).catch((e: unknown) => {
      err = (e as Error).message
      return 1
    })
  )
  return { code, out, err }
}

const requireCjs = createRequire(import.meta.url)
function loadEcosystem (root: string): { apps: Array<Record<string, unknown>> } {
  const file = path.join(root, 'ecosystem.config.cjs')
  delete requireCjs.cache[requireCjs.resolve(file)]
  return requireCjs(file)
}

t.test('tenant:add rejects bad ports with clear messages', async (t) => {
  const root = tempRoot(t)
  t.match((await cli(['add', 'abc', '--root', root])).err, /port "abc" is not a number/, 'non-numeric')
  t.match((await cli(['add', '80', '--root', root])).err, /outside 1024–65535/, 'too low')
  t.match((await cli(['add', '70000', '--root', root])).err, /outside 1024–65535/, 'too high')
  t.match((await cli(['add', '--root', root])).err, /needs a port/, 'missing')
  const busy = net.createServer()
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
  const busyPort = (busy.address() as net.AddressInfo).port
  t.teardown(() => busy.close())
  t.match((await cli(['add', String(busyPort), '--root', root])).err, /in use by another program/, 'port in use')
  t.same(fs.readdirSync(path.join(root, 'tenants')), [], 'nothing written on rejection')
})

t.test('tenant:add writes a 0600 config with a fresh key, and refuses a second time', async (t) => {
  const root = tempRoot(t)
  const port = await freePort()
  const r = await cli(['add', String(port), '--root', root, '--name', 'Cliente A'])
  t.equal(r.code, 0, 'exit 0')
  const file = path.join(root, 'tenants', `config-${port}.env`)
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'mode 0600')
  const { config } = loadTenantConfig(root, port)
  t.equal(config.TENANT_NAME, 'Cliente A', 'name written')
  t.ok(r.out.includes(config.API_KEY), 'API key printed once')
  t.ok(config.API_KEY.length >= 40, 'key is long')
  t.ok(config.CALLBACK_SECRET.length >= 40 && config.CALLBACK_SECRET !== config.API_KEY, 'a callback secret of its own, ready for CALLBACK_URL')
  t.notOk(r.out.includes(config.CALLBACK_SECRET), 'not printed (it stays in the file)')
  t.equal(config.V8_AUTH_URL, 'https://auth.v8sistema.com/oauth/token', 'real hosts by default')
  t.equal(config.HOST, '127.0.0.1', 'loopback unless the operator chose otherwise')
  t.match(r.out, /Listens on 127\.0\.0\.1:\d+: this machine only/, 'says where it listens')
  const again = await cli(['add', String(port), '--root', root])
  t.match(again.err, /already a tenant/, 'second add refused')
  t.equal(loadTenantConfig(root, port).config.API_KEY, config.API_KEY, 'existing key untouched')

  const port2 = await freePort()
  await cli(['add', String(port2), '--root', root, '--sandbox', '--sandbox-url', 'http://127.0.0.1:7171'])
  const c2 = loadTenantConfig(root, port2).config
  t.equal(c2.V8_AUTH_URL, 'http://127.0.0.1:7171/oauth/token', '--sandbox points V8 auth at the sandbox')
  t.equal(c2.KENTRO_API_URL, 'http://127.0.0.1:7171/kentro/int', '--sandbox points Kentro at the sandbox')
  t.equal(c2.ENVIRONMENT, 'sandbox', '--sandbox says so in ENVIRONMENT (and /health)')

  const portPublic = await freePort()
  const pub = await cli(['add', String(portPublic), '--root', root, '--public'])
  t.equal(loadTenantConfig(root, portPublic).config.HOST, '0.0.0.0', '--public listens on every interface')
  t.match(pub.out, /every interface: reachable from other machines/, 'and says what that means')
  t.match((await cli(['add', String(await freePort()), '--root', root, '--public', '--host', '10.0.0.5'])).err, /either --public .* or --host/, '--public with --host refused')
  t.not(c2.API_KEY, config.API_KEY, 'keys differ per tenant')
  t.equal(config.DEFAULT_GENDER, '', 'no default gender unless the operator declares one')

  const port3 = await freePort()
  t.equal((await cli(['add', String(port3), '--root', root, '--default-gender', 'f'])).code, 0, '--default-gender f')
  t.equal(loadTenantConfig(root, port3).config.DEFAULT_GENDER, 'F', 'DEFAULT_GENDER=F written')
  const bad = await cli(['add', String(await freePort()), '--root', root, '--default-gender', 'x'])
  t.match(bad.err, /--default-gender "x": use M, F or none/, 'anything else refused')
})

t.test('a config carried over from the older system is completed, not overwritten', async (t) => {
  const root = tempRoot(t)
  const old = path.join(root, 'old-6010.env')
  fs.writeFileSync(old, 'V8_USERNAME=cliente@x.com\nV8_PASSWORD=p@ss "q"\nKENTRO_TOKEN=tok\nKENTRO_QUEUE_ID=25\nNODE_ENV=production\n')
  const r = await cli(['add', '6010', '--root', root, '--import', old])
  t.equal(r.code, 0, `import ok (${r.err})`)
  t.match(r.out, /Completed the existing config/, 'says it completed')
  const { config, warnings } = loadTenantConfig(root, 6010)
  t.equal(config.V8_USERNAME, 'cliente@x.com', 'username kept')
  t.equal(config.V8_PASSWORD, 'p@ss "q"', 'password kept')
  t.equal(config.PORT, 6010, 'port filled')
  t.equal(config.HOST, '127.0.0.1', 'no HOST in the old file: loopback')
  t.ok(config.API_KEY.length >= 40, 'key added')
  t.ok(warnings.length >= 2, 'seed keys noted')
  // The same, with the seed file already in place under tenants/.
  fs.writeFileSync(path.join(root, 'tenants', 'config-6011.env'), 'PORT=6011\nV8_USERNAME=b@x.com\n')
  t.equal((await cli(['add', '6011', '--root', root])).code, 0, 'in-place seed file completed')
  t.equal(loadTenantConfig(root, 6011).config.V8_USERNAME, 'b@x.com', 'value kept in place')
})

t.test('the generated ecosystem parses back with one safe entry per tenant, and is idempotent', async (t) => {
  const root = tempRoot(t)
  const [p1, p2] = [await freePort(), await freePort()]
  await cli(['add', String(p1), '--root', root])
  await cli(['add', String(p2), '--root', root, '--sandbox', '--sandbox-url', 'http://127.0.0.1:7272'])
  const eco = loadEcosystem(root)
  const names = eco.apps.map((a) => a['name'])
  t.same(names.sort(), ['clt-v8-api-' + p1, 'clt-v8-api-' + p2, 'clt-v8-sandbox'].sort(), 'one entry per tenant + sandbox')
  const app = eco.apps.find((a) => a['name'] === `clt-v8-api-${p1}`)!
  t.equal(app['script'], path.join(CODE_DIR, 'bin', 'clt-v8-api.js'), 'script is the entry file, not npm')
  t.same(app['args'], ['--port', String(p1), '--root', root], 'only the port (and root) passed')
  t.equal(app['exec_mode'], 'cluster', 'cluster mode')
  t.equal(app['instances'], 1, 'one instance')
  t.equal(app['wait_ready'], true, 'wait_ready')
  t.equal(app['merge_logs'], true, 'merge_logs')
  t.equal(app['out_file'], path.join(root, 'logs', `pm2-${p1}.log`), 'pm2 out file per port')
  t.equal(app['kill_timeout'], TENANT_ENTRY_DEFAULTS.kill_timeout, 'kill timeout above the shutdown grace')
  t.same([app['min_uptime'], app['max_restarts'], app['exp_backoff_restart_delay'], app['restart_delay']], ['10s', 5, undefined, undefined], 'a process failing at start ends errored after 5 tries (no delay setting, which would hide it)')
  t.equal(app['env'], undefined, 'no env block (no values passed through the environment)')
  const sandbox = eco.apps.find((a) => a['name'] === 'clt-v8-sandbox')!
  t.same(sandbox['args'], ['--port', '7272', '--log-level', 'warn'], 'sandbox on the port the tenant uses, logging warnings only')
  const text = fs.readFileSync(path.join(root, 'ecosystem.config.cjs'), 'utf8')
  for (const port of [p1, p2]) {
    const key = loadTenantConfig(root, port).config.API_KEY
    t.notOk(text.includes(key), 'no API key in the ecosystem file')
  }
  t.notOk(/PASSWORD|sandbox'?\s*$/m.test(text.replace(/clt-v8-sandbox|bin', 'clt-v8-sandbox.js'|sandbox\(|const sandbox/g, '')), 'no password in the ecosystem file')
  const again = await cli(['ecosystem', '--root', root])
  t.match(again.out, /Unchanged/, 'regeneration is idempotent')
  t.equal(renderEcosystem(root, CODE_DIR).text, text, 'same render twice')
})

t.test('an invalid tenant file is skipped from the ecosystem and shown by list', async (t) => {
  const root = tempRoot(t)
  fs.writeFileSync(path.join(root, 'tenants', 'config-6020.env'), 'PORT=6020\nAPI_KEY=short\n')
  const r = await cli(['ecosystem', '--root', root])
  t.match(r.out, /skipped: .*API_KEY/, 'skip reported')
  const list = await cli(['list', '--root', root])
  t.match(list.out, /6020\s+\?\s+\?\s+INVALID/, 'list shows it invalid')
  t.match(list.out, /6020: .*API_KEY must be at least 32 characters/, 'and why')
})

t.test('tenant:list shows name, config state, pm2 and health', async (t) => {
  const root = tempRoot(t)
  const port = await freePort()
  await cli(['add', String(port), '--root', root, '--name', 'Listed'])
  const list = await cli(['list', '--root', root])
  t.match(list.out, new RegExp(`${port}\\s+Listed\\s+\\S+\\s+ok\\s+pm2 not running\\s+down\\s+V8 login not set, no Kentro, no PresençaBank`), 'row with state and what is not set up')
  t.match((await cli(['list', '--root', tempRoot(t)])).out, /No tenants yet/, 'empty root')
})

t.test('tenant:remove refuses while running unless --force, keeps data unless --purge', async (t) => {
  const root = tempRoot(t)
  const port = await freePort()
  await cli(['add', String(port), '--root', root])
  const db = path.join(root, 'tenants', `data-${port}.sqlite`)
  fs.writeFileSync(db, 'x')
  const server = http.createServer((_req, res) => res.end('{"status":"OK"}'))
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const refused = await cli(['remove', String(port), '--root', root])
  t.match(refused.err, /is running; stop it first or pass --force/, 'refused while running')
  t.ok(fs.existsSync(path.join(root, 'tenants', `config-${port}.env`)), 'config still there')
  const forced = await cli(['remove', String(port), '--root', root, '--force'])
  t.equal(forced.code, 0, 'forced removal')
  await new Promise<void>((resolve) => server.close(() => resolve()))
  t.notOk(fs.existsSync(path.join(root, 'tenants', `config-${port}.env`)), 'config removed')
  t.ok(fs.existsSync(db), 'data kept without --purge')
  t.equal(loadEcosystem(root).apps.length, 0, 'ecosystem regenerated without it')
  t.match((await cli(['remove', String(port), '--root', root])).err, /not a tenant/, 'second removal: not a tenant')

  const p2 = await freePort()
  await cli(['add', String(p2), '--root', root])
  const db2 = path.join(root, 'tenants', `data-${p2}.sqlite`)
  fs.writeFileSync(db2, 'x')
  fs.writeFileSync(path.join(root, 'logs', `pm2-${p2}.log`), 'x')
  t.equal((await cli(['remove', String(p2), '--root', root, '--purge'])).code, 0, 'purge removal')
  t.notOk(fs.existsSync(db2), 'data purged')
  t.notOk(fs.existsSync(path.join(root, 'logs', `pm2-${p2}.log`)), 'logs purged')
})

t.test('tenant:check reports the file and warns about the older wrong V8 host', async (t) => {
  const root = tempRoot(t)
  fs.writeFileSync(path.join(root, 'tenants', 'config-6030.env'), `PORT=6030\nAPI_KEY=${'a'.repeat(40)}\nV8_API_URL=https://api.v8digital.com\n`)
  const r = await cli(['check', '6030', '--root', root])
  t.equal(r.code, 1, 'exit 1: not running and no V8 login')
  t.match(r.out, /result: NOT OK — V8 login not set; not answering/, 'says both')
  t.match(r.out, /older system's wrong host/, 'warns about api.v8digital.com')
  t.match(r.out, /login not set/, 'says the V8 login is not set')
  t.match(r.out, /default gender \(DEFAULT_GENDER\): none declared — .*422 dados_faltantes \(sexo\)/, 'says no gender is declared, and what that means')
  fs.appendFileSync(path.join(root, 'tenants', 'config-6030.env'), 'DEFAULT_GENDER=M\n')
  t.match((await cli(['check', '6030', '--root', root])).out, /default gender \(DEFAULT_GENDER\): M, declared by this tenant/, 'shows a declared one')
  t.match((await cli(['bogus'])).out, /usage:/, 'unknown command prints usage')
})

t.test('tenant:backup copies a consistent database while it is open', async (t) => {
  const root = tempRoot(t)
  const { openDatabase } = await import('../../src/db/database.js')
  fs.writeFileSync(path.join(root, 'tenants', 'config-6040.env'), `PORT=6040\nAPI_KEY=${'a'.repeat(40)}\n`)
  const db = openDatabase(path.join(root, 'tenants', 'data-6040.sqlite'))
  db.prepare("INSERT INTO config_audit (at, ip, action, keys) VALUES (1, '127.0.0.1', 'test', 'X')").run()
  const target = path.join(root, 'b.sqlite')
  const r = await cli(['backup', '6040', '--root', root, '--out', target])
  db.close()
  t.equal(r.code, 0, `backup ok ${r.err}`)
  const copy = openDatabase(target)
  t.equal((copy.prepare('SELECT count(*) AS n FROM config_audit').get() as { n: number }).n, 1, 'row present in the copy')
  copy.close()
  t.equal(fs.statSync(target).mode & 0o777, 0o600, 'backup is 0600')
  t.match((await cli(['backup', '6041', '--root', root])).err, /port 6041 is not a tenant/, 'unknown port is a clear error')
  fs.writeFileSync(path.join(root, 'tenants', 'config-6042.env'), `PORT=6042\nAPI_KEY=${'a'.repeat(40)}\n`)
  t.match((await cli(['backup', '6042', '--root', root])).err, /no database/, 'missing db is a clear error')
})
