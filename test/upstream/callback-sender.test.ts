/** One delivery attempt's outcome as the outbox records it: the status, or why there was none (policy, time, network). */
import { pino } from 'pino'
import t from 'tap'
import { CallbackSender, type Delivery } from '../../src/upstream/callback.js'
import { tcpServer } from '../fixtures/net.js'

const delivery = (url: string): Delivery => ({ url, secret: 's'.repeat(32), eventId: 'evt_1', type: 'fluxo.concluido', body: '{}', attempt: 1, nowMs: Date.now() })

t.test('an address the URL policy refuses is reported as refused, not as a timeout', async (t) => {
  const { port, connections } = await tcpServer(t)
  const sender = new CallbackSender({ timeoutMs: 60_000, addressPolicy: () => ({ sandbox: false, allow: [] }), logger: pino({ level: 'silent' }) })
  const result = await sender.send(delivery(`http://127.0.0.1:${port}/callbacks`))
  t.equal(result.ok, false, 'not delivered')
  t.equal(result.status, null, 'no HTTP status')
  t.match(result.error, /^endereço recusado pela política de URLs/, `the policy's refusal: ${result.error}`)
  t.equal(connections(), 0, 'refused before any connection opened')
})

t.test('a receiver that never answers is reported as no answer within the time', async (t) => {
  const { port } = await tcpServer(t)
  const sender = new CallbackSender({ timeoutMs: 1_000, addressPolicy: () => ({ sandbox: true, allow: [] }), logger: pino({ level: 'silent' }) })
  const result = await sender.send(delivery(`http://127.0.0.1:${port}/callbacks`))
  t.same(result, { ok: false, status: null, error: 'sem resposta em 1 s' }, 'the time ran out')
})
