/** A tenant process killed (SIGKILL) or stopped (SIGTERM) mid-batch, then restarted: nothing lost, nothing done twice. Needs `npm run build`. */
import path from 'node:path'
import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { startSandbox, type RunningSandbox, type Scenario } from '../fixtures/sandbox.js'
import { api, startTenantProcess, waitHealthy, type TenantProcess } from '../fixtures/batches-process.js'
import { waitFor } from '../fixtures/batches.js'

/** A tap subtest (the parameter of t.test's callback). */
type T = Parameters<Parameters<typeof t.test>[0]>[0]

const MIX: Array<[Scenario, number, 'SUCCESS' | 'FAILED']> = [
  ['ok', 60, 'SUCCESS'],
  ['slow', 20, 'SUCCESS'],
  ['rejected', 20, 'FAILED'],
  ['no_margin', 20, 'FAILED'],
]

async function setup (t: T): Promise<{ sb: RunningSandbox; root: string; port: number; expected: Map<string, 'SUCCESS' | 'FAILED'>; dbFile: string }> {
  const sb = await startSandbox(t)
  await sb.configure({ consult_delay_ms: 300, slow_ms: 3000 })
  const expected = new Map<string, 'SUCCESS' | 'FAILED'>()
  for (const [scenario, n, status] of MIX) for (const p of await sb.people(scenario, n)) expected.set(p.cpf, status)
  await sb.faults({ latency_ms: 30 })
  const root = tempRoot(t, 'cltv8-crash-')
  const port = await freePort()
  writeTenantConfig(root, port, { ...sb.tenantConfig(), BATCH_CONCURRENCY: '8', V8_MAX_RPS: '1000', LOG_LEVEL: 'info' })
  return { sb, root, port, expected, dbFile: path.join(root, 'tenants', `data-${port}.sqlite`) }
}

function readItems (dbFile: string): Array<{ cpf: string; status: string; attempts: number; lease_owner: string | null }> {
  const db = openDatabase(dbFile)
  try {
    return db.prepare('SELECT cpf, status, attempts, lease_owner FROM batch_items ORDER BY seq').all() as Array<{ cpf: string; status: string; attempts: number; lease_owner: string | null }>
  } finally {
    db.close()
  }
}

async function progressOf (p: TenantProcess, id: string): Promise<{ processados: number; finished_at: string | null; sucessos: number; erros: number; status: string; total: number }> {
  return (await api(p.port, 'GET', `/clt/lotes/${id}?limit=1`)).body
}

async function checkFinal (t: T, p: TenantProcess, id: string, sb: RunningSandbox, expected: Map<string, 'SUCCESS' | 'FAILED'>, dbFile: string): Promise<void> {
  const final = await progressOf(p, id)
  t.equal(final.status, 'COMPLETED', 'batch COMPLETED')
  t.same([final.total, final.sucessos, final.erros], [120, 80, 40], 'counts match the scenarios exactly')
  const items = readItems(dbFile)
  const wrong = items.filter((i) => i.status !== expected.get(i.cpf))
  t.same(wrong, [], 'every item finished with its scenario outcome, once (one row, final state)')
  t.ok(items.every((i) => i.lease_owner === null), 'no lease left behind')
  const stats = await sb.stats()
  const notOnce = [...expected.keys()].filter((cpf) => stats.consults_by_cpf[cpf] !== 1)
  t.same(notOnce, [], 'the sandbox created exactly one consult per CPF')
}

t.test('SIGKILL mid-batch, restart: the new process reclaims the dead leases at once and finishes every item exactly once', async (t) => {
  const { sb, root, port, expected, dbFile } = await setup(t)
  const first = startTenantProcess(t, root, port)
  await waitHealthy(port)
  const t0 = Date.now()
  const created = await api(port, 'POST', '/clt/lotes', { cpfs: [...expected.keys()] })
  t.equal(created.status, 202, 'batch accepted')
  const id = created.body.lote_id as string
  await waitFor('30 processed', async () => (await progressOf(first, id)).processados >= 30, 60_000, 50)
  const rssFirst = first.peakRssMb()
  first.child.kill('SIGKILL')
  const exit = await first.exited
  t.equal(exit.signal, 'SIGKILL', 'the first process was killed')
  const atKill = readItems(dbFile)
  const inFlight = atKill.filter((i) => i.status === 'RUNNING').map((i) => i.cpf)
  const doneAtKill = atKill.filter((i) => i.status === 'SUCCESS' || i.status === 'FAILED').length
  t.ok(inFlight.length > 0, `items were in flight when killed (${inFlight.length}), holding leases of the dead process`)

  const second = startTenantProcess(t, root, port)
  const restartAt = Date.now()
  await waitHealthy(port)
  // Each item in flight at the kill is claimed again (attempts 2) once the new process sees its owner is gone.
  await waitFor('the dead process items claimed again', () => readItems(dbFile).filter((i) => inFlight.includes(i.cpf)).every((i) => i.attempts >= 2), 20_000, 20)
  const resumeMs = Date.now() - restartAt
  t.ok(resumeMs < 10_000, `the dead process's items were resumed ${resumeMs} ms after the restart, without waiting out the 30 s lease`)
  await waitFor('batch end', async () => (await progressOf(second, id)).finished_at !== null, 90_000, 100)
  const wall = Date.now() - t0
  await checkFinal(t, second, id, sb, expected, dbFile)
  const items = readItems(dbFile)
  t.ok(items.filter((i) => inFlight.includes(i.cpf)).every((i) => i.attempts >= 2), 'the in-flight items ran again (resumed)')
  const stats = await sb.stats()
  t.ok(stats.simulations_created <= 80 + inFlight.length, `simulations ${stats.simulations_created} ≤ successes + items in flight at the kill`)
  const rssSecond = second.peakRssMb()
  second.child.kill('SIGTERM')
  const stop = await second.exited
  t.equal(stop.code, 0, 'the restarted process stops cleanly on SIGTERM')
  t.comment(
    `kill-mid-batch: killed after ${doneAtKill}/120 finished with ${inFlight.length} in flight; restart resumed them in ${resumeMs} ms; ` +
      `batch done in ${(wall / 1000).toFixed(1)} s total; consults per CPF all 1; simulations ${stats.simulations_created} for 80 successes; ` +
      `peak RSS ${rssFirst} MB (first) / ${rssSecond} MB (second)`
  )
})

t.test('SIGTERM mid-batch: in-flight items finish or are released within the grace, the next process finishes the batch', async (t) => {
  const { sb, root, port, expected, dbFile } = await setup(t)
  const first = startTenantProcess(t, root, port)
  await waitHealthy(port)
  const id = (await api(port, 'POST', '/clt/lotes', { cpfs: [...expected.keys()] })).body.lote_id as string
  await waitFor('20 processed', async () => (await progressOf(first, id)).processados >= 20, 60_000, 50)
  const stopAt = Date.now()
  first.child.kill('SIGTERM')
  const exit = await first.exited
  const stopMs = Date.now() - stopAt
  t.equal(exit.code, 0, 'exited cleanly')
  t.ok(stopMs < 8000, `stopped within the 8 s grace (${stopMs} ms)`)
  const after = readItems(dbFile)
  t.equal(after.filter((i) => i.status === 'RUNNING').length, 0, 'no item left RUNNING: finished or released')
  t.ok(after.every((i) => i.lease_owner === null), 'no lease left behind')
  const pendingLeft = after.filter((i) => i.status === 'PENDING').length
  t.ok(pendingLeft > 0, `work remained for the next process (${pendingLeft} pending)`)

  const second = startTenantProcess(t, root, port)
  await waitHealthy(port)
  await waitFor('batch end', async () => (await progressOf(second, id)).finished_at !== null, 90_000, 100)
  await checkFinal(t, second, id, sb, expected, dbFile)
  second.child.kill('SIGTERM')
  t.equal((await second.exited).code, 0, 'second process stops cleanly')
  t.comment(`SIGTERM mid-batch: stopped in ${stopMs} ms, ${pendingLeft} items left pending, all finished by the next process`)
})
