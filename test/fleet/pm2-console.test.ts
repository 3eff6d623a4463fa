/** The console as PM2 runs it (one more app of the generated ecosystem): PM2 states over its RPC socket, health, pages through it, its admin key rotated without a restart. Needs `npm run build`. */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { main as consoleCli } from '../../src/cli/console.js'
import { writeEcosystem } from '../../src/cli/ecosystem.js'
import { main as tenantCli } from '../../src/cli/tenant.js'
import { ensureConsoleConfig, loadConsoleConfig } from '../../src/config/console.js'
import { CODE_DIR } from '../../src/config/paths.js'
import type { TenantRow } from '../../src/console/fleet.js'
import { waitFor } from '../fixtures/batches.js'
import { tempRoot } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { privatePm2, usePm2Home } from '../fixtures/pm2.js'
import { captureStdout } from '../fixtures/stdout.js'

async function status (url: string, key: string): Promise<number> {
  const res = await request(url, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(5000) })
  await res.body.dump()
  return res.statusCode
}

t.test('console under a private PM2: both tenants online and healthy, a stopped one shown stopped', async (t) => {
  const root = tempRoot(t, 'cltv8-fleet-console-')
  const pm = privatePm2(t)
  const [p1, p2, consolePort] = [await freePort(), await freePort(), await freePort()]
  for (const p of [p1, p2]) {
    const { value: code } = await captureStdout(() => tenantCli(['add', String(p), '--root', root, '--host', '127.0.0.1', '--name', `T${p}`]))
    t.equal(code, 0, `tenant ${p} added`)
  }
  const { config } = ensureConsoleConfig(root, { port: consolePort })
  const eco = writeEcosystem(root, CODE_DIR)
  t.ok(eco.console, 'with console settings, the ecosystem runs the console')
  // The operator's command: every tenant one at a time, then the console.
  usePm2Home(t, pm.home)
  const reload = await captureStdout(() => tenantCli(['reload', '--root', root]))
  t.equal(reload.value, 0, `tenant:reload exits 0 (${reload.out})`)
  t.match(reload.out, new RegExp(`console: http://127\\.0\\.0\\.1:${consolePort}/ answering`), 'and starts the console after the tenants')
  const admin = { authorization: `Bearer ${config.ADMIN_KEY}` }
  const base = `http://127.0.0.1:${consolePort}`
  const rows = async (): Promise<TenantRow[] | undefined> => {
    try {
      const res = await request(`${base}/api/tenants`, { headers: admin, signal: AbortSignal.timeout(5000) })
      return res.statusCode === 200 ? ((await res.body.json()) as { tenants: TenantRow[] }).tenants : (await res.body.dump(), undefined)
    } catch {
      return undefined
    }
  }
  const byPort = (list: TenantRow[], port: number): TenantRow | undefined => list.find((r) => r.port === port)
  const ready = await waitFor('both tenants online and healthy in the console', async () => {
    const list = await rows()
    return list && [p1, p2].every((p) => byPort(list, p)?.pm2 === 'online' && byPort(list, p)?.health === 'OK') ? list : undefined
  }, 45_000, 250)
  t.equal(ready.length, 2, 'two tenants listed')
  t.ok((await pm.jlist()).some((p) => p.name === 'clt-v8-console' && p.pm2_env.status === 'online'), 'the console is a PM2 app, online')
  const page = await request(`${base}/t/${p1}/config-v8`)
  t.equal(page.statusCode, 200, "a tenant's page through the console")
  await page.body.dump()

  // console:key --rotate on the running console: SIGHUP, no restart; the old key refused once the command returns.
  const pid = async (): Promise<number | undefined> => (await pm.jlist()).find((p) => p.name === 'clt-v8-console')?.pid
  const pidBefore = await pid()
  const rotated = await captureStdout(() => consoleCli(['key', '--root', root, '--rotate']))
  t.equal(rotated.value, 0, `console:key --rotate exits 0 (${rotated.out})`)
  const newKey = loadConsoleConfig(root).ADMIN_KEY
  t.match(rotated.out, /The console \(pid \d+, not restarted\) now accepts only the new key/, 'the command signalled the console and checked the switch')
  t.equal(await status(`${base}/api/tenants`, config.ADMIN_KEY), 401, 'the old admin key is refused as soon as the command returned')
  t.equal(await status(`${base}/api/tenants`, newKey), 200, 'the new one works')
  t.equal(await pid(), pidBefore, 'the same process: not restarted')
  const outLog = path.join(root, 'logs', 'out-console.log')
  await waitFor('the console logs the re-read', () => fs.existsSync(outLog) && fs.readFileSync(outLog, 'utf8').includes('config: re-read on SIGHUP'), 10_000, 100)
  t.pass('the console logged the re-read')
  admin.authorization = `Bearer ${newKey}`

  await pm.pm2(['stop', `clt-v8-api-${p2}`], { cwd: root })
  const after = await waitFor('the stopped tenant shown stopped', async () => {
    const list = await rows()
    return list && byPort(list, p2)?.pm2 === 'stopped' ? list : undefined
  }, 30_000, 250)
  t.match(byPort(after, p2), { pm2: 'stopped', health: 'down' }, 'stopped and not answering')
  t.match(byPort(after, p1), { pm2: 'online', health: 'OK' }, 'the other one unaffected')
})
