/** Batch engine with a deterministic flow: exactly-once, concurrency, retries, pending, shutdown, dead owners, two engines on one file. */
import { spawn } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { pino } from 'pino'
import { openDatabase, type Db } from '../../src/db/database.js'
import type { EngineOptions } from '../../src/domain/batches/engine.js'
import { BatchService } from '../../src/domain/batches/service.js'
import { AppError } from '../../src/errors.js'
import { tempRoot } from '../fixtures/config.js'
import { FAST_ENGINE, FakeRunner, failure, pending, rateLimited, success, unavailable, validCpf, validCpfs, waitFor } from '../fixtures/batches.js'

function service (
  t: { teardown(fn: () => unknown): void },
  opts: { db?: Db; runner?: FakeRunner; concurrency?: number; engine?: Partial<EngineOptions>; start?: boolean; listCpfs?: () => Promise<string[]> } = {}
): { svc: BatchService; db: Db; runner: FakeRunner } {
  const db = opts.db ?? openDatabase(':memory:')
  const runner = opts.runner ?? new FakeRunner()
  const svc = new BatchService({
    db,
    logger: pino({ level: 'silent' }),
    now: Date.now,
    runner,
    listCpfs: opts.listCpfs ?? (async () => []),
    maxItems: () => 5000,
    engine: { ...FAST_ENGINE, concurrency: opts.concurrency ?? 4, ...opts.engine },
  })
  if (opts.start !== false) svc.start()
  t.teardown(async () => {
    await svc.shutdown()
    if (!opts.db) db.close()
  })
  return { svc, db, runner }
}

const finished = (svc: BatchService, id: string) => () => svc.get(id)?.finishedAt !== null

t.test('a batch made from a Kentro pipeline runs each CPF with that pipeline to search', async (t) => {
  const cpfs = validCpfs(3)
  const { svc, runner } = service(t, { listCpfs: async () => cpfs })
  const { batch } = await svc.create({ origem: 'kentro', pipeline_id: 11 })
  await waitFor('batch end', finished(svc, batch.id), 20_000)
  t.same(runner.inputs.map((i) => i.pipelines), [[11], [11], [11]], 'pipelines: [pipeline_id] (KENTRO_PIPELINE_IDS may not list it)')
})

t.test('a 300-item batch with mixed outcomes: each CPF run once, exact counts, concurrency bounded', async (t) => {
  const cpfs = validCpfs(300)
  const kind = (cpf: string): number => cpfs.indexOf(cpf) % 3
  const runner = new FakeRunner({ delayMs: 2, step: (cpf) => (kind(cpf) === 2 ? failure(cpf) : success(cpf)) })
  const { svc } = service(t, { runner, concurrency: 5 })
  const { batch } = await svc.create({ origem: 'lista', cpfs: [...cpfs, ...cpfs.slice(0, 10), 'abc', '111.111.111-11'], installments: 24 })
  t.equal(batch.total, 302, '300 distinct valid + 2 invalid; duplicates dropped')
  await waitFor('batch end', finished(svc, batch.id), 20_000)
  const c = svc.counts(batch.id)
  t.same(c, { total: 302, pending: 0, running: 0, success: 200, failed: 102, cancelled: 0 }, 'counts exact (100 refused + 2 invalid)')
  t.equal(runner.calls.size, 300, 'every valid CPF reached the flow')
  t.ok([...runner.calls.values()].every((n) => n === 1), 'each exactly once')
  t.equal(runner.peak, 5, 'concurrency reached BATCH_CONCURRENCY and never exceeded it')
  t.ok(runner.inputs.every((i) => i.installments === 24 && i.amount === undefined), 'batch params passed to the flow')
  t.equal(svc.get(batch.id)?.status, 'COMPLETED', 'COMPLETED')
  t.same(svc.activeTotals(), { pending: 0, running: 0 }, 'nothing active')
})

t.test('transient errors are rescheduled with backoff and eventually succeed; a pending consult does not hold a worker', async (t) => {
  const [flaky, slow, plain] = [validCpf(1), validCpf(2), validCpf(3)]
  const order: string[] = []
  const runner = new FakeRunner({
    step: (cpf, call) => {
      order.push(cpf)
      if (cpf === flaky && call < 3) return call % 2 ? rateLimited() : unavailable()
      if (cpf === slow && call < 2) return pending(cpf, 150)
      return success(cpf)
    },
  })
  const { svc } = service(t, { runner, concurrency: 1 })
  const { batch } = await svc.create({ origem: 'lista', cpfs: [slow, flaky, plain] })
  await waitFor('batch end', finished(svc, batch.id), 10_000)
  t.equal(runner.calls.get(flaky), 4, 'three transient failures, then success')
  t.equal(runner.calls.get(slow), 3, 'two pending answers, then success')
  t.equal(runner.calls.get(plain), 1, 'plain once')
  t.ok(order.indexOf(plain) < order.lastIndexOf(slow), 'the single worker ran other items while the consult was pending')
  t.same(svc.counts(batch.id), { total: 3, pending: 0, running: 0, success: 3, failed: 0, cancelled: 0 }, 'all succeeded')
  const items = svc.items(batch.id, { limit: 10, offset: 0 }).items
  t.ok(items.every((i) => i.erro === null && i.status === 'SUCCESS'), 'no error left on recovered items')
})

t.test('transient errors give up after the configured number of retries; business errors fail at once', async (t) => {
  const [down, broken, odd] = [validCpf(10), validCpf(11), validCpf(12)]
  const runner = new FakeRunner({
    step: (cpf) => {
      if (cpf === down) return unavailable()
      if (cpf === broken) return new AppError('dados_faltantes', 'Faltam dados', 422, { campos: ['data_nascimento'] })
      return new TypeError('bug')
    },
  })
  const { svc } = service(t, { runner, engine: { policy: { ...FAST_ENGINE.policy, maxTransientRetries: 3 } } })
  const { batch } = await svc.create({ origem: 'lista', cpfs: [down, broken, odd] })
  await waitFor('batch end', finished(svc, batch.id), 10_000)
  const byCpf = new Map(svc.items(batch.id, { limit: 10, offset: 0 }).items.map((i) => [i.cpf, i]))
  t.equal(runner.calls.get(down), 4, 'first try + 3 retries')
  t.equal(byCpf.get(down)?.erro, 'upstream_unavailable', 'gave up with the upstream code')
  t.match(byCpf.get(down)?.mensagem, /desistência após 3 tentativas/, 'message says it gave up')
  t.equal(runner.calls.get(broken), 1, 'a business error is not retried')
  t.equal(byCpf.get(broken)?.erro, 'dados_faltantes', 'business code kept')
  t.equal(byCpf.get(odd)?.erro, 'erro_interno', 'an unexpected error fails the item with a generic code')
  t.equal(svc.counts(batch.id).failed, 3, 'three failed')
})

t.test('a consult pending longer than the limit fails the item', async (t) => {
  const cpf = validCpf(20)
  const runner = new FakeRunner({ step: (c) => pending(c, 10) })
  const { svc } = service(t, { runner, engine: { policy: { ...FAST_ENGINE.policy, maxPendingMs: 80 } } })
  const { batch } = await svc.create({ origem: 'lista', cpfs: [cpf] })
  await waitFor('batch end', finished(svc, batch.id), 10_000)
  const [item] = svc.items(batch.id, { limit: 1, offset: 0 }).items
  t.equal(item?.erro, 'consulta_sem_resposta', 'failed as never answered')
  t.equal(item?.etapa, 'aguardando_consulta', 'at the step it was waiting in')
  t.ok((runner.calls.get(cpf) ?? 0) >= 2, 'polled several times first')
})

t.test('shutdown lets in-flight items finish within the budget and claims nothing new', async (t) => {
  const runner = new FakeRunner({ delayMs: 150 })
  const { svc } = service(t, { runner, concurrency: 2 })
  const { batch } = await svc.create({ origem: 'lista', cpfs: validCpfs(6) })
  await waitFor('two in flight', () => runner.active === 2)
  await svc.shutdown(5000)
  t.equal(runner.totalCalls(), 2, 'no new claims after shutdown began')
  t.same(svc.counts(batch.id), { total: 6, pending: 4, running: 0, success: 2, failed: 0, cancelled: 0 }, 'the two in flight finished and were recorded')
})

t.test('shutdown past the budget aborts and releases leases; the next engine picks the items up at once', async (t) => {
  const root = tempRoot(t)
  const file = path.join(root, 'tenants', 'data-6020.sqlite')
  const db1 = openDatabase(file)
  const db2 = openDatabase(file)
  t.teardown(() => {
    db1.close()
    db2.close()
  })
  const stuck = new FakeRunner()
  stuck.hold()
  const a = service(t, { db: db1, runner: stuck, concurrency: 3, engine: { leaseMs: 60_000 } })
  const { batch } = await a.svc.create({ origem: 'lista', cpfs: validCpfs(5) })
  await waitFor('three in flight', () => stuck.active === 3)
  const t0 = Date.now()
  await a.svc.shutdown(100)
  t.ok(Date.now() - t0 < 20_000, 'shutdown is bounded by its budget (the held flows never end by themselves)')
  t.equal(stuck.aborted, 3, 'in-flight flows got the abort signal')
  t.same(a.svc.counts(batch.id), { total: 5, pending: 5, running: 0, success: 0, failed: 0, cancelled: 0 }, 'leases released: all pending')
  const fresh = new FakeRunner()
  const b = service(t, { db: db2, runner: fresh, engine: { leaseMs: 60_000 } })
  await waitFor('batch end', finished(b.svc, batch.id), 5000)
  t.same(b.svc.counts(batch.id).success, 5, 'the next engine finished everything without waiting for a 60 s lease')
})

t.test('two engines on the same file share a batch without running any item twice', async (t) => {
  const root = tempRoot(t)
  const file = path.join(root, 'tenants', 'data-6021.sqlite')
  const dbA = openDatabase(file)
  const dbB = openDatabase(file)
  t.teardown(() => {
    dbA.close()
    dbB.close()
  })
  const runner = new FakeRunner({ delayMs: 1 })
  const a = service(t, { db: dbA, runner, concurrency: 4 })
  const b = service(t, { db: dbB, runner, concurrency: 4 })
  const { batch } = await a.svc.create({ origem: 'lista', cpfs: validCpfs(400) })
  b.svc.wake()
  await waitFor('batch end', finished(a.svc, batch.id), 20_000)
  t.equal(runner.calls.size, 400, 'all items ran')
  t.ok([...runner.calls.values()].every((n) => n === 1), 'none twice')
  t.equal(b.svc.counts(batch.id).success, 400, 'counts exact from the other connection')
  const once = (dbA.prepare('SELECT count(*) AS n FROM batch_items WHERE batch_id = ? AND attempts = 1').get(batch.id) as { n: number }).n
  t.equal(once, 400, 'every item claimed exactly once')
  t.ok(runner.peak > 4, `both engines worked at once (peak ${runner.peak})`)
})

t.test('an item whose worker died is reclaimed: at once when its process is gone, else after the lease expires', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const deadPid = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    child.on('exit', () => resolve(child.pid!))
  })
  const host = os.hostname()
  const probe = service(t, { db, start: false })
  const { batch } = await probe.svc.create({ origem: 'lista', cpfs: validCpfs(3) })
  const far = Date.now() + 3_600_000
  const near = Date.now() + 300
  const set = db.prepare("UPDATE batch_items SET status = 'RUNNING', lease_owner = ?, lease_until = ?, attempts = 1 WHERE seq = ?")
  set.run(`${host}:${deadPid}:dead0001`, far, 0) // dead process on this host
  set.run(`${host}:${process.pid}:0bd0bd00`, far, 1) // our own pid under an older id: a previous incarnation
  set.run(`elsewhere:${process.pid}:aaaa0000`, near, 2) // another host: only its lease expiry frees it
  const runner = new FakeRunner()
  const { svc } = service(t, { db, runner })
  await waitFor('two reclaimed at once', () => runner.calls.size >= 2, 2000)
  t.equal(runner.calls.size, 2, 'the two items of gone processes ran at once')
  t.notOk(runner.calls.has(validCpf(2)), 'the other host item waits for its lease')
  await waitFor('batch end', finished(svc, batch.id), 5000)
  t.equal(runner.calls.get(validCpf(2)), 1, 'then ran once its lease expired')
  t.equal(svc.counts(batch.id).success, 3, 'all done')
})

t.test('a lease is renewed while a long item runs, so no one else takes it', async (t) => {
  const root = tempRoot(t)
  const file = path.join(root, 'tenants', 'data-6022.sqlite')
  const dbA = openDatabase(file)
  const dbB = openDatabase(file)
  t.teardown(() => {
    dbA.close()
    dbB.close()
  })
  const runner = new FakeRunner({ delayMs: 600 })
  const a = service(t, { db: dbA, runner, concurrency: 1, engine: { leaseMs: 150 } })
  const { batch } = await a.svc.create({ origem: 'lista', cpfs: [validCpf(30)] })
  service(t, { db: dbB, runner, concurrency: 1, engine: { leaseMs: 150 } })
  await waitFor('batch end', finished(a.svc, batch.id), 5000)
  t.equal(runner.calls.get(validCpf(30)), 1, 'ran once although it took 4 lease lengths')
})

t.test('finished batches older than the retention are purged at start', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const first = service(t, { db, start: false })
  const { batch } = await first.svc.create({ origem: 'lista', cpfs: ['invalido'] })
  db.prepare('UPDATE batches SET finished_at = ? WHERE id = ?').run(Date.now() - 31 * 86_400_000, batch.id)
  const { svc } = service(t, { db, engine: { retentionMs: 30 * 86_400_000 } })
  await waitFor('purged', () => svc.get(batch.id) === undefined, 2000)
  t.equal(svc.get(batch.id), undefined, 'old batch purged')
})
