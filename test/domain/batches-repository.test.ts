/** Batch repository: atomic claims (also across processes), lease expiry, guarded outcome writes, cancel, counts, purge. */
import { spawn } from 'node:child_process'
import path from 'node:path'
import t from 'tap'
import { CODE_DIR } from '../../src/config/paths.js'
import { openDatabase } from '../../src/db/database.js'
import { BatchRepository } from '../../src/domain/batches/repository.js'
import type { ItemOutcome } from '../../src/domain/batches/types.js'
import { tempRoot } from '../fixtures/config.js'
import { validCpfs } from '../fixtures/batches.js'

const OK: ItemOutcome = { status: 'SUCCESS', etapa: 'simulacao', erro: null, mensagem: null, resultado: null }
const items = (cpfs: string[]) => cpfs.map((cpf) => ({ cpf, valid: true }))

t.test('a claim takes one due item, marks the batch RUNNING, and never hands the same item twice', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const repo = new BatchRepository(db)
  repo.queue.insertBatch({ id: 'b1', origin: 'lista', params: { installments: 12 }, items: items(validCpfs(20)), now: 1000 })
  t.equal(repo.reads.getBatch('b1')?.status, 'PENDING', 'new batch is PENDING')
  t.equal(repo.queue.claim('w', 999, 100), undefined, 'nothing is due before the batch was created')
  const seen = new Set<string>()
  for (let i = 0; i < 20; i++) {
    const c = repo.queue.claim(i % 2 ? 'a' : 'b', 2000, 10_000)
    t.ok(c, `claim ${i} got an item`)
    t.notOk(seen.has(`${c!.batchId}:${c!.seq}`), `claim ${i} is a new item`)
    seen.add(`${c!.batchId}:${c!.seq}`)
    t.equal(c!.attempts, 1, 'first attempt')
  }
  t.equal(repo.queue.claim('a', 2000, 10_000), undefined, 'nothing left to claim while leases hold')
  const b = repo.reads.getBatch('b1')!
  t.equal(b.status, 'RUNNING', 'batch RUNNING after the first claim')
  t.equal(b.startedAt, 2000, 'started_at is the first claim time')
  t.same(b.params, { installments: 12 }, 'params round-trip')
  db.prepare("UPDATE batches SET params = ? WHERE id = 'b1'").run(JSON.stringify({ valor: 1500, prazo: 24 }))
  t.same(repo.reads.getBatch('b1')?.params, { amount: { kind: 'disbursed', value: 1500 }, installments: 24 }, 'a batch stored before the upgrade keeps what its valor meant then (a released amount)')
  db.prepare("UPDATE batches SET params = ? WHERE id = 'b1'").run(JSON.stringify({ installments: 12 }))
  t.same(repo.reads.activeTotals(), { pending: 0, running: 20 }, 'all running')
})

t.test('an expired lease makes the item claimable again; the stale worker cannot write over the new one', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const repo = new BatchRepository(db)
  repo.queue.insertBatch({ id: 'b', origin: 'lista', params: {}, items: items(validCpfs(1)), now: 0 })
  const first = repo.queue.claim('dead', 100, 50)!
  t.equal(repo.queue.claim('live', 149, 50), undefined, 'not claimable while the lease holds')
  t.equal(repo.queue.nextDueAt(), 150, 'next due is the lease expiry')
  const second = repo.queue.claim('live', 151, 50)
  t.equal(second?.seq, first.seq, 'the same item is claimed after expiry')
  t.equal(second?.attempts, 2, 'attempts counts the reclaim')
  t.equal(second?.firstRunAt, 100, 'first_run_at keeps the first claim')
  t.notOk(repo.queue.renew('dead', 'b', first.seq, 1000), 'the stale worker cannot renew')
  t.notOk(repo.queue.finish('dead', 'b', first.seq, OK, 160).ok, 'the stale worker cannot record an outcome')
  t.same(repo.reads.countItems('b'), { total: 1, pending: 0, running: 1, success: 0, failed: 0, cancelled: 0 }, 'still running under the new owner')
  t.ok(repo.queue.renew('live', 'b', first.seq, 1000), 'the owner renews')
  const done = repo.queue.finish('live', 'b', first.seq, OK, 170)
  t.same(done, { ok: true, batchFinished: true }, 'the owner records it and the batch finishes in the same transaction')
  const b = repo.reads.getBatch('b')!
  t.equal(b.status, 'COMPLETED', 'batch COMPLETED')
  t.equal(b.finishedAt, 170, 'finished_at set')
  t.notOk(repo.queue.finish('live', 'b', first.seq, OK, 180).ok, 'a second write of the same item does nothing (no double count)')
  t.equal(repo.reads.countItems('b').success, 1, 'one success')
})

t.test('retry puts the item back with a due time; release gives every lease of an owner back at once', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const repo = new BatchRepository(db)
  repo.queue.insertBatch({ id: 'b', origin: 'lista', params: {}, items: items(validCpfs(3)), now: 0 })
  const a = repo.queue.claim('w', 10, 1000)!
  repo.queue.claim('w', 10, 1000)
  repo.queue.claim('other', 10, 1000)
  const r = repo.queue.retry('w', 'b', a.seq, { etapa: 'aguardando_consulta', erro: 'upstream_unavailable', mensagem: 'x', resultado: null, nextRunAt: 500, retries: 1 }, 20)
  t.same(r, { ok: true, batchFinished: false }, 'rescheduled')
  t.equal(repo.queue.claim('w', 499, 1000), undefined, 'not due yet')
  t.equal(repo.queue.nextDueAt(), 500, 'next due at the retry time')
  const again = repo.queue.claim('w', 500, 1000)!
  t.equal(again.seq, a.seq, 'claimed again when due')
  t.equal(again.retries, 1, 'consecutive transient failures carried')
  t.same(repo.queue.releaseOwner('w', 600), ['b'], 'released the batch of w')
  t.same(repo.reads.countItems('b'), { total: 3, pending: 2, running: 1, success: 0, failed: 0, cancelled: 0 }, 'w items pending, other still running')
  t.ok(repo.queue.claim('x', 600, 1000), 'released items are due at once')
  t.same(repo.queue.runningOwners().sort(), ['other', 'x'], 'running owners listed')
})

t.test('invalid CPFs are stored failed; a batch of only invalid ones is completed at once', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const repo = new BatchRepository(db)
  repo.queue.insertBatch({ id: 'x', origin: 'lista', params: {}, items: [{ cpf: '123', valid: false }], now: 5 })
  const b = repo.reads.getBatch('x')!
  t.equal(b.status, 'COMPLETED', 'completed')
  t.equal(b.finishedAt, 5, 'finished at creation')
  const { items: list } = repo.reads.listItems('x', { limit: 10, offset: 0 })
  t.equal(list[0]?.status, 'FAILED', 'item failed')
  t.equal(list[0]?.erro, 'cpf_invalido', 'erro cpf_invalido')
  t.equal(list[0]?.etapa, 'validacao', 'at the validation step, as the flow names it (etapa is in the API)')
  t.equal(repo.queue.claim('w', 10, 100), undefined, 'nothing to claim')
})

t.test('cancel: pending items cancelled, in-flight ones finish, the batch ends when the last one does', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const repo = new BatchRepository(db)
  repo.queue.insertBatch({ id: 'b', origin: 'lista', params: {}, items: items(validCpfs(5)), now: 0 })
  const live = repo.queue.claim('w', 10, 1000)!
  const toRetry = repo.queue.claim('w', 10, 1000)!
  const c = repo.queue.cancel('b', 20)!
  t.equal(c.cancelled, 3, 'three pending cancelled')
  t.equal(c.inFlight, 2, 'two in flight')
  t.notOk(c.finished, 'not finished while items run')
  t.equal(c.batch.status, 'CANCELLED', 'batch CANCELLED at once')
  t.equal(c.batch.finishedAt, null, 'no finished_at yet')
  t.same(repo.queue.retry('w', 'b', toRetry.seq, { etapa: 'e', erro: null, mensagem: null, resultado: null, nextRunAt: 30, retries: 0 }, 25), { ok: true, batchFinished: false }, 'a rescheduled item of a cancelled batch...')
  t.equal(repo.reads.listItems('b', { status: 'CANCELLED', limit: 10, offset: 0 }).total, 4, '...becomes cancelled, not pending')
  t.same(repo.queue.finish('w', 'b', live.seq, OK, 40), { ok: true, batchFinished: true }, 'the last in-flight item ends the batch')
  const b = repo.reads.getBatch('b')!
  t.equal(b.status, 'CANCELLED', 'stays CANCELLED')
  t.equal(b.finishedAt, 40, 'finished when the last item finished')
  t.same(repo.reads.countItems('b'), { total: 5, pending: 0, running: 0, success: 1, failed: 0, cancelled: 4 }, 'counts')
  t.equal(repo.queue.cancel('b', 50)?.cancelled, 0, 'cancelling again changes nothing')
  t.equal(repo.queue.cancel('nope', 50), undefined, 'unknown batch')
})

t.test('listing is newest first, with the counts of a page at once; purge deletes old finished batches with their items', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const repo = new BatchRepository(db)
  repo.queue.insertBatch({ id: 'old', origin: 'lista', params: {}, items: [{ cpf: '1', valid: false }], now: 100 })
  repo.queue.insertBatch({ id: 'new', origin: 'lista', params: {}, items: items(validCpfs(2)), now: 200 })
  t.same(repo.reads.listBatches(10, 0).batches.map((b) => b.id), ['new', 'old'], 'newest first')
  t.same(repo.reads.listBatches(1, 1).batches.map((b) => b.id), ['old'], 'paginated')
  const counts = repo.reads.countItemsOf(['new', 'old', 'gone'])
  t.same([...counts.keys()], ['new', 'old', 'gone'], 'counts of a page: one entry per id asked for')
  t.same([counts.get('new'), counts.get('old')], [repo.reads.countItems('new'), repo.reads.countItems('old')], 'each the same as counting that batch alone')
  t.same(counts.get('gone'), { total: 0, pending: 0, running: 0, success: 0, failed: 0, cancelled: 0 }, 'an id without items counts zero')
  t.equal(repo.reads.countItemsOf([]).size, 0, 'an empty page counts nothing')
  t.equal(repo.queue.purgeFinishedBefore(150), 1, 'the old finished batch is purged')
  t.equal(repo.queue.purgeFinishedBefore(10_000), 0, 'an unfinished batch is never purged')
  t.equal((db.prepare("SELECT count(*) AS n FROM batch_items WHERE batch_id = 'old'").get() as { n: number }).n, 0, 'its items went with it')
  t.equal(repo.reads.listBatches(10, 0).total, 1, 'one batch left')
})

t.test('a batch carries its file\'s columns from its own row, in the list too', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const repo = new BatchRepository(db)
  const sheet = { arquivo: 'clientes.csv', formato: 'csv' as const, colunas: ['Nome', 'CPF'], coluna_cpf: 1, usadas: { nome: 0 } }
  repo.queue.insertBatch({ id: 'file', origin: 'planilha', params: {}, items: items(validCpfs(1)), now: 100, sheet })
  repo.queue.insertBatch({ id: 'list', origin: 'lista', params: {}, items: items(validCpfs(1)), now: 200 })
  t.same(repo.reads.getBatch('file')?.sheet, sheet, 'one batch: its sheet')
  t.same(repo.reads.listBatches(10, 0).batches.map((b) => [b.id, b.sheet]), [['list', null], ['file', sheet]], 'listed: each with its own sheet (null for a list of CPFs)')
})

t.test('three processes claiming from one SQLite file never take the same item', async (t) => {
  const root = tempRoot(t)
  const file = path.join(root, 'tenants', 'data-6010.sqlite')
  const db = openDatabase(file)
  const repo = new BatchRepository(db)
  const N = 600
  repo.queue.insertBatch({ id: 'shared', origin: 'lista', params: {}, items: items(validCpfs(N)), now: 0 })
  const dist = (p: string): string => JSON.stringify(path.join(CODE_DIR, 'dist', ...p.split('/')))
  const script = `
    const { openDatabase } = await import(${dist('db/database.js')})
    const { BatchRepository } = await import(${dist('domain/batches/repository.js')})
    const db = openDatabase(${JSON.stringify(file)})
    const repo = new BatchRepository(db)
    const owner = 'p' + process.pid
    const got = []
    for (;;) {
      const c = repo.queue.claim(owner, Date.now(), 60000)
      if (!c) break
      got.push(c.seq)
      repo.queue.finish(owner, c.batchId, c.seq, { status: 'SUCCESS', etapa: 'x', erro: null, mensagem: null, resultado: null }, Date.now())
    }
    db.close()
    process.stdout.write(JSON.stringify(got))
  `
  const runOne = (): Promise<number[]> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`child exited ${code}`))))
    })
  const results = await Promise.all([runOne(), runOne(), runOne()])
  const all = results.flat()
  t.equal(all.length, N, 'every item claimed exactly once in total')
  t.equal(new Set(all).size, N, 'no item claimed twice')
  t.same(repo.reads.countItems('shared'), { total: N, pending: 0, running: 0, success: N, failed: 0, cancelled: 0 }, 'all succeeded once')
  t.equal(repo.reads.getBatch('shared')?.status, 'COMPLETED', 'batch completed')
  db.close()
})

t.test('finished items sort in commit order: finished_at strictly increases within a batch, whatever the clocks say', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const repo = new BatchRepository(db)
  repo.queue.insertBatch({ id: 'b1', origin: 'lista', params: {}, items: items(validCpfs(4)), now: 1000 })
  const claimed = [1, 2, 3, 4].map(() => repo.queue.claim('w', 2000, 60_000)!)
  // A second process whose clock is behind, and two writes in the same millisecond.
  const clocks = [5000, 4000, 4000, 9000]
  claimed.forEach((c, i) => t.ok(repo.queue.finish('w', c.batchId, c.seq, OK, clocks[i]!).ok, `item ${i} finished`))
  const order = repo.reads.finishedSince('b1', 0)
  t.same(order.map((r) => r.finishedAt), [5000, 5001, 5002, 9000], 'each later commit sorts after the earlier ones (never equal, never before)')
  t.same(order.map((r) => r.key), [...order.map((r) => r.key)].sort((a, b) => a - b), 'and in the order they were written')
})
