/** GET /clt/lotes/:id/eventos over real HTTP: progress/item/done, heartbeats, replay, disconnect cleanup, shutdown. */
import Fastify from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { Client, request } from 'undici'
import { openDatabase, type Db } from '../../src/db/database.js'
import { BatchService } from '../../src/domain/batches/service.js'
import { BatchSheets, SHEET_MAX_BYTES } from '../../src/domain/batches/sheets.js'
import { countsView } from '../../src/http/routes/batches-view.js'
import { registerErrorHandling } from '../../src/http/errors.js'
import { batchRoutes } from '../../src/http/routes/batches.js'
import type { App } from '../../src/http/app.js'
import { AUTH } from '../fixtures/app.js'
import { openStream } from '../fixtures/sse.js'
import { FAST_ENGINE, FakeRunner, buildWithRunner, validCpfs, waitFor } from '../fixtures/batches.js'
import { tempRoot } from '../fixtures/config.js'
import { countingDb } from '../fixtures/counting-db.js'
import { listeningPort } from '../fixtures/net.js'
import { parseEventId, RETRY_MS, type EventStreamOptions } from '../../src/http/routes/batches-events.js'

const listening = async (app: App): Promise<string> => `http://127.0.0.1:${await listeningPort(app)}`

/**
 * The batch routes alone over real HTTP on `db`, with a runner that holds every CPF until `open()` (the batch stays
 * running) and the sheets service on the `now` given; everything, `db` included, is closed in teardown.
 */
async function heldStreamApp (t: Test, db: Db, events: EventStreamOptions, now: () => number = Date.now): Promise<{ base: string; batches: BatchService; sheets: BatchSheets; open: () => void }> {
  const runner = new FakeRunner()
  const open = runner.hold()
  const batches = new BatchService({ db, logger: pino({ level: 'silent' }), now: Date.now, runner, listCpfs: async () => [], maxItems: () => 100, engine: { ...FAST_ENGINE, concurrency: 1 } })
  const sheets = new BatchSheets({ db, batches, now, maxBytes: SHEET_MAX_BYTES, maxRows: () => 100 })
  batches.start()
  const app = Fastify()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerErrorHandling(app)
  await app.register(batchRoutes, { batches, sheets, events })
  t.teardown(async () => {
    open()
    await app.close()
    await batches.shutdown()
    db.close()
  })
  return { base: await listening(app as unknown as App), batches, sheets, open }
}

t.test('a client sees item per finished CPF, progress with counts, then done, and the stream ends', async (t) => {
  const runner = new FakeRunner({ delayMs: 15 })
  const { app } = await buildWithRunner(t, { runner, config: { BATCH_CONCURRENCY: '3' } })
  const base = await listening(app)
  const created = await request(`${base}/clt/lotes`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ cpfs: [...validCpfs(30), 'ruim'] }) })
  const { lote_id: id, eventos_url: eventsUrl } = (await created.body.json()) as { lote_id: string; eventos_url: string }
  const s = await openStream(base, eventsUrl)
  t.equal(s.status, 200, '200')
  t.match(String(s.headers['content-type']), /^text\/event-stream/, 'text/event-stream')
  t.equal(s.headers['cache-control'], 'no-cache, no-transform', 'not cached')
  await s.endsWithin(10_000)
  const items = s.events.filter((e) => e.event === 'item')
  const progress = s.events.filter((e) => e.event === 'progress')
  t.equal(items.length, 31, 'one item event per finished CPF (the invalid one included)')
  t.equal(new Set(items.map((e) => e.data.cpf)).size, 31, 'no CPF twice')
  t.equal(items.find((e) => e.data.cpf === 'ruim')?.data.erro, 'cpf_invalido', 'the invalid CPF as an error item')
  t.ok(items.every((e) => e.data.lote_id === id), 'items carry the batch id')
  t.ok(progress.length >= 2, `progress sent as counts changed (${progress.length})`)
  const last = progress.at(-1)!.data
  t.same([last.total, last.processados, last.sucessos, last.erros, last.pendentes], [31, 31, 30, 1, 0], 'last progress has the final counts')
  const processed = progress.map((e) => e.data.processados as number)
  t.same(processed, [...processed].sort((a, b) => a - b), 'progress never goes back')
  const doneEv = s.events.at(-1)!
  t.equal(doneEv.event, 'done', 'done is the last event')
  t.equal(doneEv.id, 'done', 'done carries id "done"')
  t.equal(doneEv.data.status, 'COMPLETED', 'done says COMPLETED')
  t.equal(doneEv.data.sucessos, 30, 'done carries the counts')
  t.ok(s.ended(), 'the server ended the stream after done')

  t.same(s.retries, [RETRY_MS], 'a retry hint first')
  t.ok(items.every((e) => /^\d+\.\d+$/.test(e.id ?? '')), 'every item event has an id (its position)')
  const positions = items.map((e) => parseEventId(e.id)!)
  t.ok(positions.every((p, i) => i === 0 || p.at > positions[i - 1]!.at || (p.at === positions[i - 1]!.at && p.key > positions[i - 1]!.key)), 'ids increase')
  t.notOk(progress.some((e) => e.id), 'progress events carry no id (Last-Event-ID stays on the last item)')

  const replay = await openStream(base, eventsUrl)
  await replay.finished
  t.equal(replay.events.filter((e) => e.event === 'item').length, 31, 'a late client gets every finished item replayed')
  t.equal(replay.events.at(-1)?.event, 'done', 'and done at once')
  const resumed = await openStream(base, eventsUrl, { ...AUTH, 'last-event-id': items[9]!.id! })
  await resumed.finished
  t.same(resumed.events.filter((e) => e.event === 'item').map((e) => e.data.cpf), items.slice(10).map((e) => e.data.cpf), 'Last-Event-ID resumes right after that item')
  t.equal(resumed.events.at(-1)?.event, 'done', 'then done')
  const odd = await openStream(base, eventsUrl, { ...AUTH, 'last-event-id': 'not-ours' })
  await odd.finished
  t.equal(odd.events.filter((e) => e.event === 'item').length, 31, 'an id that is not ours starts from the beginning')
  const reconnect = await request(`${base}${eventsUrl}`, { headers: { ...AUTH, 'last-event-id': 'done' } })
  await reconnect.body.dump()
  t.equal(reconnect.statusCode, 204, 'an EventSource reconnecting after done is told to stop (204)')
})

t.test('a client going away removes its listener; server shutdown ends open streams', async (t) => {
  const runner = new FakeRunner()
  const open = runner.hold()
  t.teardown(open)
  const { app, services } = await buildWithRunner(t, { runner })
  const base = await listening(app)
  const id = (await app.inject({ method: 'POST', url: '/clt/lotes', headers: AUTH, payload: { cpfs: validCpfs(8) } })).json().lote_id
  const a = await openStream(base, `/clt/lotes/${id}/eventos`)
  const b = await openStream(base, `/clt/lotes/${id}/eventos`)
  await waitFor('first progress on both', () => a.events.length > 0 && b.events.length > 0)
  t.equal(services.batches.subscribers(id), 2, 'one listener per stream')
  a.close()
  await waitFor('listener removed', () => services.batches.subscribers(id) === 1, 3000)
  t.pass('the disconnected client no longer has a listener')
  const t0 = Date.now()
  open()
  await app.close()
  await b.finished
  t.ok(Date.now() - t0 < 20_000, 'app.close is not held by an open event stream (it would stay open for good)')
  t.ok(b.ended(), 'the open stream was ended by the server')
  t.equal(b.events.at(-1)?.event, 'reconnect', 'its last event tells the client to reconnect (not a silent end)')
  t.equal(services.batches.subscribers(id), 0, 'no listener left')
})

t.test('a stopping process says reconnect with the id to resume from; the next process continues with no gap and no repeat', async (t) => {
  const file = `${tempRoot(t)}/tenants/data-6999.sqlite`
  const first = await buildWithRunner(t, { file, runner: new FakeRunner({ delayMs: 20 }), config: { BATCH_CONCURRENCY: '2' } })
  const base = await listening(first.app)
  const cpfs = validCpfs(24)
  const id = (await first.app.inject({ method: 'POST', url: '/clt/lotes', headers: AUTH, payload: { cpfs } })).json().lote_id
  const before = await openStream(base, `/clt/lotes/${id}/eventos`)
  await waitFor('some items streamed', () => before.events.filter((e) => e.event === 'item').length >= 5)
  await first.services.batches.shutdown() // what a reload does first
  await first.app.close()
  await before.finished
  const last = before.events.at(-1)!
  t.equal(last.event, 'reconnect', 'the stream ends with a reconnect event')
  const seen = before.events.filter((e) => e.event === 'item')
  t.equal(last.data.last_event_id, seen.at(-1)!.id, 'carrying the id of the last item it sent')
  t.match(last.data.mensagem, new RegExp(`Last-Event-ID: ${seen.at(-1)!.id!.replace('.', '\\.')}`), 'and says how to resume with curl')
  t.same(before.retries, [RETRY_MS, 1000], 'and asks EventSource to come back within a second')

  const second = await buildWithRunner(t, { file, runner: new FakeRunner({ delayMs: 5 }) })
  const after = await openStream(await listening(second.app), `/clt/lotes/${id}/eventos`, { ...AUTH, 'last-event-id': last.data.last_event_id })
  await after.endsWithin(20_000)
  const rest = after.events.filter((e) => e.event === 'item')
  const all = [...seen, ...rest].map((e) => e.data.cpf)
  t.equal(after.events.at(-1)?.event, 'done', 'the resumed stream ends with done')
  t.same([...all].sort(), [...cpfs].sort(), 'every CPF exactly once across the two streams: no gap, no repeat')
})

t.test('a stream asked for on a kept-alive connection while the process drains is told to reconnect at once', async (t) => {
  const { app } = await buildWithRunner(t, { runner: new FakeRunner({ delayMs: 50 }) })
  const base = await listening(app)
  const id = (await app.inject({ method: 'POST', url: '/clt/lotes', headers: AUTH, payload: { cpfs: validCpfs(40) } })).json().lote_id
  const kept = new Client(base)
  t.teardown(() => kept.destroy())
  await (await kept.request({ method: 'GET', path: '/health' })).body.dump() // the connection a browser keeps open
  const holding = await openStream(base, `/clt/lotes/${id}/eventos`) // keeps the drain going
  await waitFor('streaming', () => holding.events.length > 0)
  const closed = app.close()
  await waitFor('drain started', () => holding.ended(), 5000)
  const late = await kept.request({ method: 'GET', path: `/clt/lotes/${id}/eventos`, headers: AUTH })
  const text = await late.body.text()
  t.equal(late.statusCode, 200, 'answered as a stream')
  t.match(text, /retry: 1000\nevent: reconnect\n/, 'that says reconnect (with a one-second retry) and ends, instead of hanging until the drain gives up')
  await closed
})

t.test('heartbeat comments keep an idle stream alive', async (t) => {
  const db = openDatabase(':memory:')
  const { base, batches } = await heldStreamApp(t, db, { heartbeatMs: 40, pollMs: 1000 })
  const { batch } = await batches.create({ origem: 'lista', cpfs: validCpfs(2) })
  const s = await openStream(base, `/clt/lotes/${batch.id}/eventos`, {})
  await waitFor('three heartbeats', () => s.comments.length >= 3, 3000)
  t.ok(s.comments.every((c) => c === ': ping'), 'heartbeats are comment lines')
  t.notOk(s.ended(), 'stream still open while the batch runs')
  s.close()
})

t.test('an idle stream does not recompute outcomes and pace on every poll; a finished item brings the same events as before', async (t) => {
  const { db, runs } = countingDb(openDatabase(':memory:'))
  let clock = Date.now() // the pace's now and the stream's refresh clock: moved by hand below
  const { base, batches, sheets, open } = await heldStreamApp(t, db, { pollMs: 20, heartbeatMs: 60_000, progressRefreshMs: 5000, now: () => clock }, () => clock)
  const cpfs = validCpfs(3)
  const { batch } = await batches.create({ origem: 'lista', cpfs })
  // The sheet queries behind por_resultado, vazao_por_min and restante_s (two of them read every item of the batch).
  const progressReads = (): number => runs(/GROUP BY status, erro, etapa|ORDER BY finished_at DESC LIMIT 500|first_run_at AS first|finished_at - first_run_at/)
  const polls = (): number => runs(/finished_at >= \?/) // the stream's own look for finished items, once per pump
  const s = await openStream(base, `/clt/lotes/${batch.id}/eventos`, {})
  await waitFor('the first item running, the rest queued', () => s.events.some((e) => e.event === 'progress' && e.data.em_andamento === 1 && e.data.pendentes === 2), 5000)
  const idle = { reads: progressReads(), polls: polls(), events: s.events.length }
  t.ok(idle.reads > 0, `outcomes and pace were computed for the first progress (${idle.reads} reads)`)
  await waitFor('ten idle polls', () => polls() >= idle.polls + 10, 5000)
  t.equal(progressReads(), idle.reads, `no outcome or pace read over ${polls() - idle.polls} polls with nothing new`)
  t.equal(s.events.length, idle.events, 'and nothing sent')

  const before = progressReads()
  sheets.progress(batch.id)
  const once = progressReads() - before // what one computation reads
  clock += 5000
  const refresh = polls()
  await waitFor('two more polls', () => polls() >= refresh + 2, 5000)
  t.equal(progressReads() - before - once, once, 'once the refresh interval has passed on the clock, one recomputation (the pace follows time), not one per poll')

  const computed = progressReads()
  open()
  await s.endsWithin(10_000)
  t.ok(progressReads() > computed, 'finished items bring the outcomes and pace up to date')
  const items = s.events.filter((e) => e.event === 'item')
  t.same(items.map((e) => e.data.cpf).sort(), [...cpfs].sort(), 'an item event per finished CPF')
  const last = s.events.filter((e) => e.event === 'progress').at(-1)!
  const expected = { lote_id: batch.id, status: 'COMPLETED', ...countsView(batches.counts(batch.id)), ...sheets.progress(batch.id) }
  t.same(last.data, expected, 'the last progress is exactly what computing everything now gives')
  t.match(last.data, { processados: 3, por_resultado: { oferta: 3, na_fila: 0, em_andamento: 0 }, restante_s: 0 }, 'with the final counts by outcome')
  t.equal(s.events.at(-1)?.event, 'done', 'then done')
})

t.test('K streams on one batch compute its outcomes and pace once per change, not once per stream', async (t) => {
  const { db, runs } = countingDb(openDatabase(':memory:'))
  const clock = Date.now() // never moves: no refresh by time, only changes count
  const { base, batches, sheets } = await heldStreamApp(t, db, { pollMs: 20, heartbeatMs: 60_000, progressRefreshMs: 5000, now: () => clock }, () => clock)
  const { batch } = await batches.create({ origem: 'lista', cpfs: validCpfs(3) })
  await waitFor('the first item running, the rest queued', () => batches.counts(batch.id).running === 1, 5000)
  const progressReads = (): number => runs(/GROUP BY status, erro, etapa|ORDER BY finished_at DESC LIMIT 500|first_run_at AS first|finished_at - first_run_at/)
  const polls = (): number => runs(/finished_at >= \?/)
  const before = progressReads()
  sheets.progress(batch.id)
  const once = progressReads() - before // what one computation reads
  t.ok(once > 0, `one computation reads ${once} times`)

  const K = 4
  const opened = progressReads()
  const streams: Array<Awaited<ReturnType<typeof openStream>>> = []
  for (let i = 0; i < K; i++) streams.push(await openStream(base, `/clt/lotes/${batch.id}/eventos`, {}))
  const saw = (check: (data: Record<string, unknown>) => boolean) => () => streams.every((s) => s.events.some((e) => e.event === 'progress' && check(e.data)))
  await waitFor('every stream its first progress', saw((d) => d.em_andamento === 1 && d.pendentes === 2), 5000)
  t.equal(progressReads() - opened, once, `${K} streams opened on an unchanged batch: one computation`)

  const changed = progressReads()
  batches.cancel(batch.id) // one change: the two queued items cancelled, every stream notified
  await waitFor('every stream saw the change', saw((d) => d.cancelados === 2), 5000)
  const after = polls()
  await waitFor('every stream polled again', () => polls() >= after + 2 * K, 5000)
  t.equal(progressReads() - changed, once, `one change: one computation for the ${K} streams`)
  const last = streams.map((s) => s.events.filter((e) => e.event === 'progress').at(-1)!.data)
  t.ok(last.every((d) => JSON.stringify(d) === JSON.stringify(last[0])), 'every stream sent the same progress')
  t.match(last[0], { cancelados: 2, em_andamento: 1, por_resultado: { cancelado: 2, em_andamento: 1, na_fila: 0 } }, 'with the outcomes after the change')
  for (const s of streams) s.close()
  await waitFor('streams gone', () => batches.subscribers(batch.id) === 0, 3000)
})
