/** GET /clt/lotes/:id/eventos over real HTTP: progress/item/done, heartbeats, replay, disconnect cleanup, shutdown. */
import Fastify from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { pino } from 'pino'
import t from 'tap'
import { Client, request } from 'undici'
import { openDatabase } from '../../src/db/database.js'
import { BatchService } from '../../src/domain/batches/service.js'
import { registerErrorHandling } from '../../src/http/errors.js'
import { batchRoutes } from '../../src/http/routes/batches.js'
import type { App } from '../../src/http/app.js'
import { AUTH } from '../fixtures/app.js'
import { FAST_ENGINE, FakeRunner, buildWithRunner, validCpfs, waitFor } from '../fixtures/batches.js'

interface SseEvent {
  event: string
  data: any
  id?: string
}

/** Open the stream on its own connection and collect events until it ends or `close()` is called. */
async function openStream (base: string, path: string, headers: Record<string, string> = AUTH) {
  const client = new Client(base)
  const res = await client.request({ method: 'GET', path, headers })
  const events: SseEvent[] = []
  const comments: string[] = []
  let buffer = ''
  let ended = false
  const reading = (async () => {
    try {
      for await (const chunk of res.body) {
        buffer += (chunk as Buffer).toString('utf8')
        let cut: number
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          const ev: Partial<SseEvent> & { data?: string } = {}
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) comments.push(line)
            else if (line.startsWith('event: ')) ev.event = line.slice(7)
            else if (line.startsWith('data: ')) ev.data = line.slice(6)
            else if (line.startsWith('id: ')) ev.id = line.slice(4)
          }
          if (ev.event) events.push({ event: ev.event, data: JSON.parse(ev.data ?? 'null'), ...(ev.id ? { id: ev.id } : {}) })
        }
      }
    } catch {
      // aborted by the test
    }
    ended = true
    await client.close().catch(() => undefined)
  })()
  return {
    status: res.statusCode,
    headers: res.headers,
    events,
    comments,
    ended: () => ended,
    finished: reading,
    close: () => { client.destroy() },
  }
}

async function listening (app: App): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const addr = app.server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no port')
  return `http://127.0.0.1:${addr.port}`
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
  await Promise.race([s.finished, new Promise((resolve, reject) => setTimeout(() => reject(new Error('stream did not end')), 10_000))])
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

  const replay = await openStream(base, eventsUrl)
  await replay.finished
  t.equal(replay.events.filter((e) => e.event === 'item').length, 31, 'a late client gets every finished item replayed')
  t.equal(replay.events.at(-1)?.event, 'done', 'and done at once')
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
  t.equal(services.batches.subscribers(id), 0, 'no listener left')
})

t.test('heartbeat comments keep an idle stream alive', async (t) => {
  const db = openDatabase(':memory:')
  const runner = new FakeRunner()
  const open = runner.hold()
  const batches = new BatchService({
    db,
    logger: pino({ level: 'silent' }),
    now: Date.now,
    runner,
    listCpfs: async () => [],
    maxItems: () => 100,
    engine: { ...FAST_ENGINE, concurrency: 1 },
  })
  batches.start()
  const app = Fastify()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerErrorHandling(app)
  await app.register(batchRoutes, { batches, events: { heartbeatMs: 40, pollMs: 1000 } })
  t.teardown(async () => {
    open()
    await app.close()
    await batches.shutdown()
    db.close()
  })
  const base = await listening(app as unknown as App)
  const { batch } = await batches.create({ origem: 'lista', cpfs: validCpfs(2) })
  const s = await openStream(base, `/clt/lotes/${batch.id}/eventos`, {})
  await waitFor('three heartbeats', () => s.comments.length >= 3, 3000)
  t.ok(s.comments.every((c) => c === ': ping'), 'heartbeats are comment lines')
  t.notOk(s.ended(), 'stream still open while the batch runs')
  s.close()
})
