/** One delivery attempt's outcome as the outbox records it: the status, or why there was none (policy, time, network). */
import { createServer, type Server, type Socket } from 'node:net'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { CallbackSender, type Delivery } from '../../src/upstream/callback.js'

const delivery = (url: string): Delivery => ({ url, secret: 's'.repeat(32), eventId: 'evt_1', type: 'fluxo.concluido', body: '{}', attempt: 1, nowMs: Date.now() })

/** A TCP server that accepts and never answers. */
async function silentServer (t: Test): Promise<number> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => { sockets.add(socket) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy()
    server.close(() => resolve())
  }))
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no port')
  return addr.port
}

t.test('an address the URL policy refuses is reported as refused, not as a timeout', async (t) => {
  const port = await silentServer(t)
  const sender = new CallbackSender({ timeoutMs: 60_000, addressPolicy: () => ({ sandbox: false, allow: [] }), logger: pino({ level: 'silent' }) })
  const result = await sender.send(delivery(`http://127.0.0.1:${port}/callbacks`))
  t.equal(result.ok, false, 'not delivered')
  t.equal(result.status, null, 'no HTTP status')
  t.match(result.error, /^endereço recusado pela política de URLs/, `the policy's refusal: ${result.error}`)
})

t.test('a receiver that never answers is reported as no answer within the time', async (t) => {
  const port = await silentServer(t)
  const sender = new CallbackSender({ timeoutMs: 1_000, addressPolicy: () => ({ sandbox: true, allow: [] }), logger: pino({ level: 'silent' }) })
  const result = await sender.send(delivery(`http://127.0.0.1:${port}/callbacks`))
  t.same(result, { ok: false, status: null, error: 'sem resposta em 1 s' }, 'the time ran out')
})
