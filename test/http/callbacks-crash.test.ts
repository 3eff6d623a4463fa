/**
 * The callbacks outbox across a real process dying: SIGKILL while a delivery is in flight loses no event (the next
 * process sends it again, same id); SIGTERM gives the delivery in flight back without counting it. Needs `npm run build`.
 */
import path from 'node:path'
import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { HEADERS } from '../../src/upstream/callback.js'
import { api, startTenantProcess, waitHealthy } from '../fixtures/batches-process.js'
import { waitFor } from '../fixtures/batches.js'
import { tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { startReceiver } from '../fixtures/receiver.js'
import { startSandbox } from '../fixtures/sandbox.js'
import { CALLBACK_SECRET } from '../fixtures/webhooks.js'

type Row = { id: string; state: string; attempts: number }

function outbox (dbFile: string): Row[] {
  const db = openDatabase(dbFile)
  try {
    return db.prepare('SELECT id, state, attempts FROM outbox ORDER BY created_at, id').all() as Row[]
  } finally {
    db.close()
  }
}

async function setup (t: { teardown(fn: () => unknown): void }) {
  const sb = await startSandbox(t)
  await sb.configure({ consult_delay_ms: 100 })
  const rx = await startReceiver(t)
  rx.answer('hold')
  const root = tempRoot(t, 'cltv8-callbacks-')
  const port = await freePort()
  writeTenantConfig(root, port, { ...sb.tenantConfig(), V8_MAX_RPS: '1000', FLOW_WAIT_SECONDS: '5', CALLBACK_URL: `${rx.url}/cb`, CALLBACK_SECRET })
  const people = await sb.people('ok', 3)
  return { sb, rx, root, port, people, dbFile: path.join(root, 'tenants', `data-${port}.sqlite`) }
}

t.test('SIGKILL mid-delivery: the event in flight and the queued ones all arrive after the restart, the same ids', async (t) => {
  const { rx, root, port, people, dbFile } = await setup(t)
  const first = startTenantProcess(t, root, port)
  await waitHealthy(port)
  for (const p of people) t.equal((await api(port, 'POST', '/clt/fluxo-completo', { cpf: p.cpf })).status, 200, 'flow done, its result queued')
  await waitFor('a delivery held open by the client', () => rx.held() === 1, 15_000, 20)
  first.child.kill('SIGKILL')
  t.equal((await first.exited).signal, 'SIGKILL', 'killed mid-delivery')
  const atKill = outbox(dbFile)
  t.equal(atKill.length, 3, 'three events in the outbox')
  t.same(atKill.map((r) => r.state).sort(), ['pending', 'pending', 'sending'], 'one was in flight, two waiting')
  const inFlight = atKill.find((r) => r.state === 'sending')!
  t.equal(rx.received.length, 1, 'the client had seen only the one in flight (no answer given)')

  rx.answer(200)
  const second = startTenantProcess(t, root, port)
  await waitHealthy(port)
  await waitFor('all delivered', () => outbox(dbFile).every((r) => r.state === 'delivered'), 30_000, 50)
  const ids = rx.received.map((r) => r.json.id as string)
  t.same(new Set(ids), new Set(atKill.map((r) => r.id)), 'every event arrived')
  t.equal(ids.filter((id) => id === inFlight.id).length, 2, 'the one in flight arrived again (at least once), under the same id')
  t.ok(rx.received.every((r) => r.headers[HEADERS.eventId] === r.json.id), 'the id header matches the body every time')
  const lists = (await api(port, 'GET', '/webhooks/entregas')).body.entregas as Array<{ status: string }>
  t.same(lists.map((e) => e.status), ['entregue', 'entregue', 'entregue'], 'listed as delivered')
  second.child.kill('SIGTERM')
  t.equal((await second.exited).code, 0, 'stops cleanly')
})

t.test('SIGTERM mid-delivery: the process stops within its grace and hands the event back uncounted', async (t) => {
  const { rx, root, port, people, dbFile } = await setup(t)
  const first = startTenantProcess(t, root, port)
  await waitHealthy(port)
  t.equal((await api(port, 'POST', '/clt/fluxo-completo', { cpf: people[0]!.cpf })).status, 200, 'flow done')
  await waitFor('a delivery held open', () => rx.held() === 1, 15_000, 20)
  first.child.kill('SIGTERM')
  const exit = await first.exited
  t.equal(exit.code, 0, 'exited cleanly with a delivery still in flight')
  t.match(outbox(dbFile), [{ state: 'pending', attempts: 0 }], 'released: pending again, the interrupted attempt not counted')
  rx.answer(200)
  const second = startTenantProcess(t, root, port)
  await waitHealthy(port)
  await waitFor('delivered', () => outbox(dbFile)[0]?.state === 'delivered', 30_000, 50)
  t.equal(rx.received.at(-1)!.json.id, outbox(dbFile)[0]!.id, 'the same event, delivered by the next process')
  second.child.kill('SIGTERM')
  t.equal((await second.exited).code, 0, 'stops cleanly')
})
