/** The operator commands of the console and metrics: tenant:add's bad-port warning, console:key, tenant:prometheus, tenant:proxy. */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { main as consoleCli } from '../../src/cli/console.js'
import { main as tenantCli } from '../../src/cli/tenant.js'
import { consoleFile, ensureConsoleConfig, loadConsoleConfig } from '../../src/config/console.js'
import { loadTenantConfig } from '../../src/config/load.js'
import { tempRoot } from '../fixtures/config.js'
import { freeBadPort } from '../fixtures/console.js'
import { freePort } from '../fixtures/net.js'
import { captureStdout } from '../fixtures/stdout.js'

// Never look at the operator's real PM2: point PM2_HOME at an empty folder (no daemon there).
process.env['PM2_HOME'] = fs.mkdtempSync(path.join(os.tmpdir(), 'p2-'))
t.teardown(() => fs.rmSync(process.env['PM2_HOME']!, { recursive: true, force: true }))

async function run (fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  let err = ''
  const { value: code, out } = await captureStdout(() => fn().catch((e: unknown) => {
    err = (e as Error).message
    return 1
  }))
  return { code, out, err }
}
const tenant = (args: string[]) => run(() => tenantCli(args))
const consoleKey = (args: string[]) => run(() => consoleCli(args))
const requireCjs = createRequire(import.meta.url)
function appNames (root: string): string[] {
  const file = path.join(root, 'ecosystem.config.cjs')
  delete requireCjs.cache[requireCjs.resolve(file)]
  return (requireCjs(file) as { apps: Array<{ name: string }> }).apps.map((a) => a.name)
}

t.test('tenant:add on a port browsers refuse: a warning and the console URL; console:key made once, then the console runs', async (t) => {
  const root = tempRoot(t, 'cltv8-console-cli-')
  const bad = await freeBadPort()
  const first = await tenant(['add', String(bad), '--root', root])
  t.equal(first.code, 0, `added (${first.err})`)
  t.match(first.out, new RegExp(`warning: browsers refuse port ${bad} .*ERR_UNSAFE_PORT`), 'warns')
  t.match(first.out, new RegExp(`http://127\\.0\\.0\\.1:7000/t/${bad}/config-v8 +\\(first: npm run console:key`), 'gives the console URL, and how to get the console')
  t.notOk(appNames(root).includes('clt-v8-console'), 'no console in the ecosystem before it has settings')

  const consolePort = await freePort()
  const made = await consoleKey(['key', '--root', root, '--port', String(consolePort)])
  t.equal(made.code, 0, 'console:key')
  const key = loadConsoleConfig(root).ADMIN_KEY
  t.match(made.out, key, 'the admin key printed once')
  t.match(made.out, `http://127.0.0.1:${consolePort}/`, 'and where the console is')
  t.ok(appNames(root).includes('clt-v8-console'), 'the ecosystem now runs the console')
  const again = await consoleKey(['key', '--root', root])
  t.notOk(again.out.includes(key), 'not printed again')
  t.match(again.out, /fingerprint [0-9a-f]{16}/, 'its fingerprint instead')
  const rotated = await consoleKey(['key', '--root', root, '--rotate'])
  const newKey = loadConsoleConfig(root).ADMIN_KEY
  t.not(newKey, key, '--rotate: a new key')
  t.match(rotated.out, newKey, 'printed once')
  t.equal(rotated.code, 0, 'exit 0')
  t.match(rotated.out, /The console is not running: it starts with the new key/, 'no console running: nothing to signal, and it says so')
  t.match((await consoleKey(['key', '--root', root, '--nope'])).err, /Unknown option/, 'an unknown option refused')
  t.equal((await consoleKey(['nothing'])).code, 2, 'an unknown command: usage, exit 2')

  const good = await freePort()
  const other = await tenant(['add', String(good), '--root', root])
  t.notMatch(other.out, /warning: browsers refuse/, 'an ordinary port: no warning')
  const bad2 = await freeBadPort([bad])
  const second = await tenant(['add', String(bad2), '--root', root])
  t.match(second.out, new RegExp(`http://127\\.0\\.0\\.1:${consolePort}/t/${bad2}/config-v8\\n`), 'with the console set up: its own URL, no extra step')
})

t.test('tenant:prometheus and tenant:proxy as commands', async (t) => {
  const root = tempRoot(t, 'cltv8-console-cli-')
  const port = await freePort()
  t.equal((await tenant(['add', String(port), '--root', root, '--name', 'Cliente'])).code, 0, 'a tenant')
  const prom = await tenant(['prometheus', '--root', root, '--set-token', '--scrape-interval', '30s'])
  t.equal(prom.code, 0, `tenant:prometheus (${prom.err})`)
  t.match(prom.out, /Created the fleet's scrape token/, 'the token made')
  t.match(prom.out, new RegExp(`1 target\\(s\\): ${port}`), 'the tenant listed')
  t.match(prom.out, new RegExp(`${port}: not running under this PM2`), 'says when the tenant reads its token')
  t.ok(loadTenantConfig(root, port).config.METRICS_TOKEN.length >= 32, 'METRICS_TOKEN written')
  t.ok(fs.existsSync(path.join(root, 'tenants', 'prometheus', 'prometheus.yml')), 'the scrape config written')
  t.match((await tenant(['prometheus', '--root', root, '--scrape-interval', 'soon'])).err, /not a Prometheus duration/, 'a bad interval refused')

  const file = path.join(root, 'Caddyfile')
  const proxy = await tenant(['proxy', '--root', root, '--console', 'console.example.com.br', '--api', 'clt.example.com.br', '--out', file])
  t.equal(proxy.code, 0, `tenant:proxy (${proxy.err})`)
  t.match(fs.readFileSync(file, 'utf8'), new RegExp(`handle_path /${port}/\\*`), 'the Caddyfile with the tenant')
  t.notMatch(proxy.out, /TRUST_PROXY/, 'no console settings yet: nothing to say about them')
  ensureConsoleConfig(root)
  const noTrust = await tenant(['proxy', '--root', root, '--console', 'console.example.com.br', '--out', file])
  t.match(noTrust.out, /console\.env has no TRUST_PROXY: behind this Caddy add TRUST_PROXY=127\.0\.0\.1/, 'a console without TRUST_PROXY: says what to add')
  fs.appendFileSync(consoleFile(root), "TRUST_PROXY='127.0.0.1'\n")
  t.notMatch((await tenant(['proxy', '--root', root, '--console', 'console.example.com.br', '--out', file])).out, /TRUST_PROXY/, 'with it set: no note')
  t.match((await tenant(['proxy', '--root', root])).err, /needs --console/, '--console is required')
  t.match((await tenant(['proxy', '--root', root, '--console', 'a b'])).err, /not a site address/, 'a bad site refused')
})
