/** The connect-time address guard: refused before any socket opens, never retried; a sandbox policy lets loopback through. */
import { pino } from 'pino'
import t from 'tap'
import type { UpstreamPolicy } from '../../src/config/address-policy.js'
import { UpstreamError } from '../../src/upstream/errors.js'
import { HttpClient } from '../../src/upstream/http-client.js'
import { tcpServer } from '../fixtures/net.js'

async function trap (t: { teardown(fn: () => unknown): void }): Promise<{ port: number; connections: () => number }> {
  return tcpServer(t, (s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}'))
}

function client (t: { teardown(fn: () => unknown): void }, policy: UpstreamPolicy): HttpClient {
  const http = new HttpClient({ logger: pino({ level: 'silent' }), addressPolicy: () => policy, sleep: async () => {} })
  t.teardown(() => http.close())
  return http
}

t.test('a loopback address or a name resolving to one is refused before connecting, without retries', async (t) => {
  const { port, connections } = await trap(t)
  const http = client(t, { sandbox: false, allow: [] })
  for (const host of ['127.0.0.1', 'localhost']) {
    const err = await http.send({ upstream: 'Kentro', method: 'GET', url: `http://${host}:${port}/x`, route: 'x', idempotent: true }).catch((e: unknown) => e)
    t.ok(err instanceof UpstreamError, `${host}: an UpstreamError`)
    t.equal((err as UpstreamError).code, 'upstream_endereco_bloqueado', `${host}: blocked`)
    t.equal((err as UpstreamError).transient, false, `${host}: not worth retrying`)
  }
  t.equal(connections(), 0, 'no connection was made')
})

t.test('a sandbox policy or an allowlist entry lets the same call through', async (t) => {
  const { port, connections } = await trap(t)
  for (const policy of [{ sandbox: true, allow: [] }, { sandbox: false, allow: ['localhost'] }, { sandbox: false, allow: ['127.0.0.0/8'] }]) {
    const res = await client(t, policy).send({ upstream: 'Kentro', method: 'GET', url: `http://localhost:${port}/x`, route: 'x', idempotent: true })
    t.equal(res.status, 200, `answered with ${JSON.stringify(policy)}`)
  }
  t.equal(connections(), 3, 'each call connected')
})
