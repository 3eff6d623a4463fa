/** The fleet as an operator runs it: tenant:add ×2 → pm2 start → reload under load → stop. Needs `npm run build`. */
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import t from 'tap'
import { main as tenantCli } from '../../src/cli/tenant.js'
import { TENANT_NODE_ARGS } from '../../src/config/lifecycle.js'
import { loadTenantConfig } from '../../src/config/load.js'
import { privatePm2 } from '../fixtures/pm2.js'
import { tempRoot } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { captureStdout } from '../fixtures/stdout.js'

/** One request on a fresh connection (like curl); resolves the status or the error code. A slow answer on a busy machine is not a failure: only a socket idle for 30 s counts as one. */
function get (port: number, urlPath: string, headers: Record<string, string> = {}): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, headers, timeout: 30_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}

async function waitHealthy (port: number, ms = 15000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if ((await get(port, '/health')) === 200) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`port ${port} not healthy after ${ms} ms`)
}

t.test('two tenants under a private PM2: isolated files, zero-failure reload, clean stop', async (t) => {
  const root = tempRoot(t, 'cltv8-fleet-')
  const pm = privatePm2(t)
  const [p1, p2] = [await freePort(), await freePort()]
  for (const p of [p1, p2]) {
    const { value: code } = await captureStdout(() => tenantCli(['add', String(p), '--root', root, '--host', '127.0.0.1', '--name', `T${p}`]))
    t.equal(code, 0, `tenant ${p} added`)
  }
  // The operator's shell may hold anything; PM2 passes it all to the apps. None of it may matter.
  await pm.pm2(['start', 'ecosystem.config.cjs'], { cwd: root, env: { V8_PASSWORD: 'from-shell', API_KEY: 'shell-key-'.repeat(5), LOG_LEVEL: 'silent' } })
  await Promise.all([waitHealthy(p1), waitHealthy(p2)])
  const list = await pm.jlist()
  t.same(list.map((p) => p.name).sort(), [`clt-v8-api-${p1}`, `clt-v8-api-${p2}`].sort(), 'both apps in PM2')
  t.ok(list.every((p) => p.pm2_env.status === 'online'), 'both online')
  // PM2 rewrites the worker's process title (/proc/<pid>/cmdline), so ask PM2 which node flags it forked with.
  t.same((list[0]!.pm2_env as { node_args?: string[] }).node_args, [...TENANT_NODE_ARGS], 'PM2 runs the tenant with the heap flags')
  t.comment(`idle RSS per tenant: ${list.map((p) => `${p.name}=${(p.monit.memory / 2 ** 20).toFixed(1)} MB`).join(', ')}`)

  const key1 = loadTenantConfig(root, p1).config.API_KEY
  t.equal(await get(p1, '/config/v8/atual', { authorization: `Bearer ${'shell-key-'.repeat(5)}` }), 401, 'the shell API_KEY is not the tenant key')
  t.equal(await get(p2, `/marker-${p2}`, { authorization: `Bearer ${key1}` }), 404, 'tenant 1 key does not open tenant 2 routes (unknown route still 404)')
  await get(p1, `/marker-for-${p1}`)
  await get(p2, `/marker-for-${p2}`)
  await new Promise((resolve) => setTimeout(resolve, 300))
  const out1 = fs.readFileSync(path.join(root, 'logs', `out-${p1}.log`), 'utf8')
  const out2 = fs.readFileSync(path.join(root, 'logs', `out-${p2}.log`), 'utf8')
  t.ok(out1.includes(`marker-for-${p1}`) && !out1.includes(`marker-for-${p2}`), 'tenant 1 log holds only its own requests')
  t.ok(out2.includes(`marker-for-${p2}`) && !out2.includes(`marker-for-${p1}`), 'tenant 2 log holds only its own requests')
  t.notOk(out1.includes(key1) || out1.includes('from-shell'), 'no key or shell secret in the log')
  const tenantFiles = fs.readdirSync(path.join(root, 'tenants')).sort()
  t.same(tenantFiles.filter((f) => f.startsWith('data-')).map((f) => f.replace(/-(wal|shm)$/, '')).filter((f, i, a) => a.indexOf(f) === i), [`data-${p1}.sqlite`, `data-${p2}.sqlite`].sort(), 'one SQLite file per tenant')
  const logs = fs.readdirSync(path.join(root, 'logs')).sort()
  t.same(logs, [String(p1), String(p2), `error-${p1}.log`, `error-${p2}.log`, `out-${p1}.log`, `out-${p2}.log`, `pm2-${p1}.log`, `pm2-${p2}.log`].sort(), 'per-port log files only')

  // Reload while a client loops requests on fresh connections: nothing may fail.
  const results: Array<number | string> = []
  let looping = true
  const loop = (async () => {
    // eslint-disable-next-line no-unmodified-loop-condition -- cleared by the other task while this one awaits
    while (looping) results.push(await get(p1, '/health'))
  })()
  await new Promise((resolve) => setTimeout(resolve, 300))
  const pidBefore = (await pm.jlist()).find((p) => p.name === `clt-v8-api-${p1}`)!.pid
  const started = Date.now()
  await pm.pm2(['reload', 'ecosystem.config.cjs'], { cwd: root })
  const reloadMs = Date.now() - started
  await new Promise((resolve) => setTimeout(resolve, 500))
  looping = false
  await loop
  const failed = results.filter((r) => r !== 200)
  const pidAfter = (await pm.jlist()).find((p) => p.name === `clt-v8-api-${p1}`)!.pid
  t.not(pidAfter, pidBefore, 'the process was replaced')
  t.ok(results.length > 20, `client kept requesting (${results.length} requests)`)
  t.same(failed, [], `zero failed requests during reload (${results.length} requests, reload ${reloadMs} ms)`)
  t.comment(`pm2 reload of 2 tenants: ${reloadMs} ms, ${results.length} requests, ${failed.length} failed`)

  await pm.pm2(['stop', `clt-v8-api-${p2}`], { cwd: root })
  t.not(await get(p2, '/health'), 200, 'stopped tenant no longer answers')
  t.equal(await get(p1, '/health'), 200, 'the other tenant is unaffected')
  const lines = fs.readFileSync(path.join(root, 'logs', `out-${p2}.log`), 'utf8').trim().split('\n')
  t.equal(JSON.parse(lines.at(-1)!).msg, 'stopped', 'last log line of the stopped tenant is in the file')
  t.ok(lines.some((l) => JSON.parse(l).signal === 'SIGINT'), 'it shut down on the signal')
  const errLog = fs.readFileSync(path.join(root, 'logs', `error-${p2}.log`), 'utf8')
  t.equal(errLog, '', 'no errors logged')
})
