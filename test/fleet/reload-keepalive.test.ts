/**
 * Reloads under clients that keep connections open (fetch, undici Agent, http.Agent keepAlive), fresh-connection
 * clients and a POST client, against tenants under a private PM2: one tenant reloaded three times, then the fleet
 * by the rolling `tenant:reload` and by a plain `pm2 reload`. Nothing may fail; no POST may be lost or doubled.
 * Needs `npm run build`.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { main as tenantCli } from '../../src/cli/tenant.js'
import { updateEnvText } from '../../src/config/env-file.js'
import { loadTenantConfig } from '../../src/config/load.js'
import { openDatabase } from '../../src/db/database.js'
import { startLoops, type LoopSpec, type LoopTally } from '../fixtures/clients.js'
import { tempRoot } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { privatePm2, usePm2Home } from '../fixtures/pm2.js'
import { captureStdout } from '../fixtures/stdout.js'
import { waitHealthy } from '../fixtures/batches-process.js'
import { waitFor } from '../fixtures/batches.js'

t.test('keep-alive, fresh and POST clients through reloads of one tenant and of the fleet: 0 failed, 0 lost, 0 doubled', async (t) => {
  const root = tempRoot(t, 'cltv8-ka-')
  const pm = privatePm2(t)
  usePm2Home(t, pm.home) // the in-process tenant CLI talks to this test's PM2
  const ports = [await freePort(), await freePort(), await freePort()]
  for (const p of ports) {
    const { value: code } = await captureStdout(() => tenantCli(['add', String(p), '--root', root, '--name', `KA ${p}`]))
    t.equal(code, 0, `tenant ${p} added`)
    // The POST client creates a few thousand one-CPF batches, faster than the default limits allow a client
    // (600 requests a minute) and a tenant (50 batches a day): the operator's settings for this load.
    const file = path.join(root, 'tenants', `config-${p}.env`)
    const limits = { RATE_LIMIT_PER_MINUTE: '0', BATCHES_PER_DAY: '100000', BATCH_ITEMS_PER_DAY: '1000000', LOG_LEVEL: 'warn' }
    fs.writeFileSync(file, updateEnvText(fs.readFileSync(file, 'utf8'), limits))
  }
  const key = (p: number): string => loadTenantConfig(root, p).config.API_KEY
  const [a, b] = ports as [number, number, number]
  const started = await captureStdout(() => tenantCli(['reload', '--root', root]))
  t.equal(started.value, 0, `tenant:reload starts the fleet:\n${started.out}`)
  await Promise.all(ports.map((p) => waitHealthy(p)))

  const pids = async (): Promise<Map<string, number>> => new Map((await pm.jlist()).map((p) => [p.name, p.pid]))
  const report = (tallies: LoopTally[]): string => tallies.map((x) => `${x.kind}@${x.port}=${x.ok}`).join(' ')
  const allPosts: number[] = []

  await t.test('one tenant, reloaded three times', async (t) => {
    const specs: LoopSpec[] = [
      ...(['fetch', 'fetch', 'undici', 'undici', 'http-agent', 'http-agent', 'fresh'] as const).map((kind) => ({ kind, port: a })),
      { kind: 'post', port: a, apiKey: key(a) },
      { kind: 'post', port: a, apiKey: key(a) },
      { kind: 'http-agent', port: b },
    ]
    const loops = startLoops(specs)
    await waitFor('the clients to be answered', () => loops.answered() >= 100, 30_000)
    for (let i = 1; i <= 3; i++) {
      const before = await pids()
      const answered = loops.answered()
      await pm.pm2(['reload', `clt-v8-api-${a}`], { cwd: root })
      const after = await pids()
      t.not(after.get(`clt-v8-api-${a}`), before.get(`clt-v8-api-${a}`), `reload ${i}: the process was replaced`)
      t.equal(after.get(`clt-v8-api-${b}`), before.get(`clt-v8-api-${b}`), `reload ${i}: the other tenant untouched`)
      t.ok(await waitFor('answers after the reload', () => loops.answered() > answered + 50, 30_000), `reload ${i}: the clients kept being answered`)
    }
    const tallies = await loops.stop()
    t.same(tallies.flatMap((x) => x.failures), [], `no failed request (${report(tallies)})`)
    t.ok(tallies.every((x) => x.ok > 0), 'every client loop was answered')
    allPosts.push(...tallies.flatMap((x) => x.created))
  })

  await t.test('the fleet, by the rolling tenant:reload and by a plain pm2 reload', async (t) => {
    const specs: LoopSpec[] = ports.flatMap((port) => [
      { kind: 'fetch' as const, port },
      { kind: 'undici' as const, port },
      { kind: 'http-agent' as const, port },
      { kind: 'fresh' as const, port },
      { kind: 'post' as const, port, apiKey: key(port) },
    ])
    const loops = startLoops(specs)
    await waitFor('the clients to be answered', () => loops.answered() >= 100, 30_000)
    let before = await pids()
    const rolling = await captureStdout(() => tenantCli(['reload', '--root', root]))
    t.equal(rolling.value, 0, `rolling reload succeeded:\n${rolling.out}`)
    const [p1, p2, p3] = [...ports].sort((x, y) => x - y)
    t.match(rolling.out, new RegExp(`^${p1}: reloaded[^\\n]*health OK\\n${p2}: reloaded[^\\n]*health OK\\n${p3}: reloaded[^\\n]*health OK`), 'one at a time, in port order, each healthy')
    let after = await pids()
    t.ok(ports.every((p) => after.get(`clt-v8-api-${p}`) !== before.get(`clt-v8-api-${p}`)), 'rolling: every process replaced')
    before = after
    await pm.pm2(['reload', 'ecosystem.config.cjs'], { cwd: root })
    after = await pids()
    t.ok(ports.every((p) => after.get(`clt-v8-api-${p}`) !== before.get(`clt-v8-api-${p}`)), 'plain pm2 reload: every process replaced')
    const settled = loops.answered()
    await waitFor('answers after the reloads', () => loops.answered() > settled + 50, 30_000)
    const tallies = await loops.stop()
    t.same(tallies.flatMap((x) => x.failures), [], `no failed request (${report(tallies)})`)
    t.ok(tallies.every((x) => x.ok > 0), 'every client loop was answered')
    allPosts.push(...tallies.flatMap((x) => x.created))
  })

  // Every 202 the POST clients got is one batch in the tenant's database, and there is no batch they did not get a 202 for.
  const stored: number[] = []
  for (const p of ports) {
    const db = openDatabase(path.join(root, 'tenants', `data-${p}.sqlite`))
    stored.push(...(db.prepare("SELECT json_extract(params, '$.amount.value') AS v FROM batches").all() as Array<{ v: number }>).map((r) => r.v))
    db.close()
  }
  const count = new Map<number, number>()
  for (const v of stored) count.set(v, (count.get(v) ?? 0) + 1)
  t.ok(allPosts.length > 50, `the POST clients were answered ${allPosts.length} times`)
  t.same([...count].filter(([, n]) => n > 1), [], 'no POST stored twice')
  t.same([...stored].sort((x, y) => x - y), [...allPosts].sort((x, y) => x - y), 'every answered POST stored once, nothing stored that was not answered')
})
