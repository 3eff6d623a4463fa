/**
 * Finding 5 (TRUST_PROXY=true trusted the left-most X-Forwarded-For), against a real tenant: `true` is refused with
 * what to write instead; with the proxy's address or a hop count, the client is the right-most untrusted address,
 * so rotating the header no longer escapes the per-client limit and the logs and audit hold the real client.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { TENANT_NODE_ARGS } from '../../src/config/lifecycle.js'
import { CODE_DIR } from '../../src/config/paths.js'
import { tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { call, closeAgents, logLines, NEEDS_BUILD, startSecuredTenant } from '../fixtures/security.js'

t.teardown(closeAgents)

const LIMIT = 20
const REAL_CLIENT = '203.0.113.7'

t.test('TRUST_PROXY=true does not start, and the message says what to write', { skip: NEEDS_BUILD }, async (t) => {
  const root = tempRoot(t, 'cltv8-sec-')
  const port = await freePort()
  writeTenantConfig(root, port, { TRUST_PROXY: 'true' })
  const child = spawn(process.execPath, [...TENANT_NODE_ARGS, path.join(CODE_DIR, 'bin', 'clt-v8-api.js'), '--port', String(port), '--root', root], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  t.equal(code, 1, 'exit 1')
  t.match(stderr, /TRUST_PROXY true is no longer accepted/, 'names the key and the value')
  t.match(stderr, /TRUST_PROXY=127\.0\.0\.1.*TRUST_PROXY=1/, 'and says what to write')
})

for (const [name, trust] of [['the proxy\'s address', '127.0.0.1'], ['a hop count', '1']] as const) {
  t.test(`TRUST_PROXY = ${name}: rotating X-Forwarded-For no longer escapes the limit; logs and audit hold the real client`, { skip: NEEDS_BUILD }, async (t) => {
    const tenant = await startSecuredTenant(t, { config: { TRUST_PROXY: trust, RATE_LIMIT_PER_MINUTE: String(LIMIT) } })
    // The proxy (127.0.0.1) appends the address it saw; the client made up everything to its left.
    const statuses: number[] = []
    for (let i = 0; i < 2 * LIMIT; i++) {
      const spoofed = `10.${i}.${i}.${i}`
      statuses.push((await call(tenant, 'GET', '/cache/simulacoes', { headers: { 'x-forwarded-for': `${spoofed}, ${REAL_CLIENT}` } })).status)
    }
    t.equal(statuses.filter((s) => s === 200).length, LIMIT, `${LIMIT} answered, whatever the client wrote`)
    t.equal(statuses.filter((s) => s === 429).length, LIMIT, 'the rest limited')

    // Through the proxy: the audit must hold the address the proxy saw, not the one the client wrote.
    const viaProxy = await call(tenant, 'POST', '/config/v8/salvar', { json: { username: 'b@b.co', password: 'y' }, headers: { 'x-forwarded-for': `6.6.6.6, ${REAL_CLIENT}` } })
    t.equal(viaProxy.status, 429, 'the real client is still over its limit, whatever it writes')
    const other = await call(tenant, 'POST', '/config/v8/salvar', { json: { username: 'b@b.co', password: 'y' }, headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.20' } })
    t.equal(other.status, 200, 'another real client behind the same proxy has its own limit')
    if (trust === '127.0.0.1') {
      // A peer that is not the proxy: its own address counts, its header is ignored.
      const direct = await call(tenant, 'POST', '/config/v8/salvar', { json: { username: 'c@b.co', password: 'z' }, from: '127.0.0.2', headers: { 'x-forwarded-for': '6.6.6.6' } })
      t.equal(direct.status, 200, 'a direct peer is served as itself')
    }
    await tenant.stop()

    const db = new Database(path.join(tenant.root, 'tenants', `data-${tenant.port}.sqlite`), { readonly: true })
    const ips = (db.prepare('SELECT ip FROM config_audit ORDER BY id').all() as Array<{ ip: string }>).map((r) => r.ip)
    db.close()
    const seen = logLines(tenant.root, tenant.port).filter((l) => l['msg'] === 'request completed').map((l) => l['remoteAddress'])
    t.notOk(seen.some((a) => typeof a === 'string' && (a.startsWith('10.') || a === '6.6.6.6')), 'no spoofed address in the logs')
    t.ok(seen.includes(REAL_CLIENT), 'the logs hold the address the proxy saw')
    t.same(ips, trust === '127.0.0.1' ? ['198.51.100.20', '127.0.0.2'] : ['198.51.100.20'], 'the audit holds the real clients only')
  })
}
