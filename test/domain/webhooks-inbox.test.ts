/** The V8 webhook inbox: content ids, redeliveries within the window, the same status again later as a new event. */
import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { DUPLICATE_WINDOW_MS, WebhookInbox } from '../../src/domain/webhooks/inbox.js'
import { eventId, parseV8Event } from '../../src/upstream/v8-events.js'

const PENDING = { type: 'private.consignment.operation.updated', operationId: 'op-1', status: 'pending' }

t.test('a redelivery is one row; the same content after the window, once applied, is a new event', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const inbox = new WebhookInbox(db)
  let now = 1_000_000
  const store = (p: Record<string, unknown>) => inbox.store(parseV8Event(p), p, now)
  const first = store(PENDING)
  t.same(first, { id: eventId(PENDING), duplicate: false }, 'stored under its content id')
  t.same(store({ status: 'pending', operationId: 'op-1', type: PENDING.type }), { id: first.id, duplicate: true }, 'same content, other key order: a redelivery')
  now += DUPLICATE_WINDOW_MS * 3
  t.same(store(PENDING), { id: first.id, duplicate: true }, 'still pending (not applied yet): a redelivery however late')
  const claimed = inbox.claim(now, 1000)
  t.same(claimed, { id: first.id, type: PENDING.type, ref: 'op-1', status: 'pending', payload: PENDING, attempts: 1, receivedAt: 1_000_000 }, 'claimed, payload parsed')
  const appliedAt = now
  inbox.finish(first.id, 'applied', 'proposta pending', now)
  now += 1000
  t.same(store(PENDING), { id: first.id, duplicate: true }, 'applied, within the window of its last delivery: a redelivery')
  now += DUPLICATE_WINDOW_MS
  t.same(store(PENDING), { id: `${first.id}.2`, duplicate: false }, 'later: pending again, a new event to apply')
  t.match(inbox.counts(), { pending: 1, applied: 1, duplicates: 3 }, 'counted')
  t.same(
    inbox.recent(10).find((r) => r.id === first.id),
    { id: first.id, type: PENDING.type, ref: 'op-1', status: 'pending', state: 'applied', outcome: 'proposta pending', deliveries: 4, attempts: 1, receivedAt: 1_000_000, appliedAt },
    'the first row as the admin list reads it: four deliveries, applied once'
  )
})

t.test('handshakes and events we cannot use are kept closed, never applied', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const inbox = new WebhookInbox(db)
  for (const p of [{ type: 'webhook.test' }, { type: 'webhook.registered' }, { type: 'private.consignment.consult.updated', status: 'SUCCESS' }, { type: 'something.else' }]) inbox.store(parseV8Event(p), p, 1)
  t.equal(inbox.claim(10, 1000), undefined, 'nothing to apply')
  t.same(inbox.recent(10).map((r) => [r.state, r.outcome]).sort(), [['ignored', 'consultId missing'], ['ignored', 'handshake'], ['ignored', 'handshake'], ['ignored', 'type not handled']].sort(), 'kept with the reason')
})
