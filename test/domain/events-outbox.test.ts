/** The callbacks outbox and its delivery worker on an in-memory DB: ids, backoff bounds, dead after N, release, reclaim, the signature. */
import t from 'tap'
import { pino } from 'pino'
import { openDatabase } from '../../src/db/database.js'
import { DeliveryWorker } from '../../src/domain/events/delivery.js'
import { Outbox } from '../../src/domain/events/outbox.js'
import { signature, verifySignature, type Delivery, type DeliveryResult } from '../../src/upstream/callback.js'
import { waitFor } from '../fixtures/batches.js'

const logger = pino({ level: 'silent' })

function setup (t: { teardown(fn: () => unknown): void }, opts: { enabled?: boolean } = {}) {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  let now = 1_000_000
  const clock = { now: () => now, advance: (ms: number) => { now += ms } }
  const outbox = new Outbox(db, { now: clock.now, tenant: () => ({ name: 'Teste', port: 6000 }), enabled: () => opts.enabled ?? true })
  return { db, clock, outbox }
}

t.test('an event is queued once per id, in a stable envelope; nothing is kept without a receiver', async (t) => {
  const { outbox } = setup(t)
  t.ok(outbox.enqueue({ id: 'e1', type: 'fluxo.concluido', data: { cpf: '1' } }), 'queued')
  t.notOk(outbox.enqueue({ id: 'e1', type: 'fluxo.concluido', data: { cpf: 'other' } }), 'the same id again: not queued')
  const row = outbox.get('e1')!
  t.same(JSON.parse(row.body), { id: 'e1', tipo: 'fluxo.concluido', criado_em: new Date(1_000_000).toISOString(), tenant: 'Teste', porta: 6000, dados: { cpf: '1' } }, 'the envelope a client receives')
  const off = setup(t, { enabled: false })
  t.notOk(off.outbox.enqueue({ id: 'e1', type: 'x', data: {} }), 'without CALLBACK_URL nothing is queued')
  t.same(off.outbox.counts(), { pending: 0, sending: 0, delivered: 0, dead: 0 }, 'empty')
})

t.test('backoff doubles per attempt within [½, 1] of its step, capped', async (t) => {
  const { outbox } = setup(t)
  const low = new DeliveryWorker({ outbox, send: async () => ({ ok: true, status: 200, error: null }), target: () => ({ url: 'x', secret: 's', maxAttempts: 3 }), logger, now: Date.now, baseBackoffMs: 1000, maxBackoffMs: 8000, random: () => 0 })
  const high = new DeliveryWorker({ outbox, send: async () => ({ ok: true, status: 200, error: null }), target: () => ({ url: 'x', secret: 's', maxAttempts: 3 }), logger, now: Date.now, baseBackoffMs: 1000, maxBackoffMs: 8000, random: () => 0.999999 })
  t.same([1, 2, 3, 4, 5, 9].map((a) => low.backoffMs(a)), [500, 1000, 2000, 4000, 4000, 4000], 'lowest: half of each step')
  t.same([1, 2, 3, 4, 5, 9].map((a) => high.backoffMs(a)), [1000, 2000, 4000, 8000, 8000, 8000], 'highest: the step, capped at the max')
})

t.test('refused → retried with the same id and body → dead after maxAttempts → requeued → delivered', async (t) => {
  const { outbox, clock } = setup(t)
  const seen: Delivery[] = []
  let answer: DeliveryResult = { ok: false, status: 500, error: 'HTTP 500' }
  const worker = new DeliveryWorker({ outbox, send: async (d) => { seen.push(d); return answer }, target: () => ({ url: 'http://client/cb', secret: 'sekret', maxAttempts: 3 }), logger, now: clock.now, baseBackoffMs: 1000, random: () => 0, pollMs: 10 })
  outbox.enqueue({ id: 'e1', type: 'lote.concluido', data: { n: 1 } })
  worker.start()
  t.teardown(() => worker.stop(100))
  await waitFor('first attempt', () => seen.length === 1, 5_000, 5)
  await waitFor('recorded', () => outbox.get('e1')!.state === 'pending' && outbox.get('e1')!.attempts === 1, 5_000, 5)
  t.equal(outbox.get('e1')!.nextAttemptAt, clock.now() + 500, 'next attempt after the jittered backoff')
  clock.advance(500)
  worker.wake()
  await waitFor('second attempt', () => seen.length === 2, 5_000, 5)
  await waitFor('recorded', () => outbox.get('e1')!.attempts === 2 && outbox.get('e1')!.state === 'pending', 5_000, 5)
  clock.advance(1000)
  worker.wake()
  await waitFor('dead', () => outbox.get('e1')!.state === 'dead', 5_000, 5)
  t.match(outbox.get('e1'), { attempts: 3, lastStatus: 500, lastError: 'HTTP 500' }, 'dead after 3 attempts, the last answer kept')
  t.same(seen.map((d) => [d.eventId, d.body, d.attempt]), [1, 2, 3].map((n) => ['e1', outbox.get('e1')!.body, n]), 'the same id and bytes each time, attempt numbered')
  answer = { ok: true, status: 204, error: null }
  t.ok(outbox.requeue('e1'), 'requeued')
  t.notOk(outbox.requeue('e1'), 'only a dead one can be')
  await waitFor('delivered', () => outbox.get('e1')!.state === 'delivered', 5_000, 5)
  t.match(outbox.get('e1'), { attempts: 1, lastStatus: 204, deliveredAt: clock.now() }, 'delivered on the first attempt after the requeue')
})

t.test('stop() with a delivery in flight aborts it after the budget and gives it back uncounted; a dead owner’s lease is reclaimed', async (t) => {
  const { outbox, clock } = setup(t)
  let started = 0
  const send = (d: Delivery): Promise<DeliveryResult> => new Promise((resolve) => {
    started++
    d.signal?.addEventListener('abort', () => resolve({ ok: false, status: null, error: 'aborted' }))
  })
  const worker = new DeliveryWorker({ outbox, send, target: () => ({ url: 'u', secret: 's', maxAttempts: 5 }), logger, now: clock.now, pollMs: 10 })
  outbox.enqueue({ id: 'e1', type: 'x', data: {} })
  worker.start()
  await waitFor('in flight', () => started === 1, 5_000, 5)
  t.equal(outbox.get('e1')!.state, 'sending', 'leased')
  await worker.stop(50)
  t.match(outbox.get('e1'), { state: 'pending', attempts: 0 }, 'back to pending, the attempt not counted')

  // A lease held by a process that is gone (a pid that cannot exist on this host) is taken back at start.
  outbox.claim(`${(await import('node:os')).hostname()}:999999999:abcd`, 60_000)
  t.equal(outbox.get('e1')!.state, 'sending', 'leased by a dead process')
  const sent: string[] = []
  const next = new DeliveryWorker({ outbox, send: async (d) => { sent.push(d.eventId); return { ok: true, status: 200, error: null } }, target: () => ({ url: 'u', secret: 's', maxAttempts: 5 }), logger, now: clock.now, pollMs: 10 })
  next.start()
  t.teardown(() => next.stop(100))
  await waitFor('delivered by the next worker', () => outbox.get('e1')!.state === 'delivered', 5_000, 5)
  t.same(sent, ['e1'], 'sent again, same id')
})

t.test('the signature a client verifies: v1 HMAC over "timestamp.body", replays outside 5 min refused', async (t) => {
  const body = '{"id":"e1"}'
  const sig = signature('sekret', 1_700_000_000, body)
  t.match(sig, /^v1=[0-9a-f]{64}$/, 'v1=<hex>')
  t.ok(verifySignature('sekret', { timestamp: '1700000000', signature: sig }, body, 1_700_000_100), 'valid within the window')
  t.notOk(verifySignature('sekret', { timestamp: '1700000000', signature: sig }, body, 1_700_000_301), 'too old: a replay')
  t.notOk(verifySignature('other', { timestamp: '1700000000', signature: sig }, body, 1_700_000_000), 'another secret')
  t.notOk(verifySignature('sekret', { timestamp: '1700000000', signature: sig }, body + ' ', 1_700_000_000), 'other bytes')
  t.notOk(verifySignature('sekret', { timestamp: '1700000001', signature: sig }, body, 1_700_000_000), 'another timestamp')
  t.ok(verifySignature('sekret', { timestamp: '1700000000', signature: `v0=abc, ${sig}` }, body, 1_700_000_000), 'a list of signatures: the v1 one counts')
})
