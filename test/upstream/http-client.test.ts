import { createServer } from 'node:net'
import { queryObjects } from 'node:v8'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import t from 'tap'
import { UpstreamError } from '../../src/upstream/errors.js'
import { retryAfterMs, type HttpRequest } from '../../src/upstream/http-client.js'
import { startSandbox, v8Token } from '../fixtures/sandbox.js'
import { httpClientFor } from '../fixtures/upstream.js'

const CONFIGS = '/private-consignment/simulation/configs'
const CONSULT = '/private-consignment/consult'

async function setup (t: { teardown(fn: () => unknown): void }, opts: Parameters<typeof httpClientFor>[1] = {}) {
  const sb = await startSandbox(t)
  const token = await v8Token(sb.url)
  const delays: number[] = []
  const http = httpClientFor(t, {
    sleep: async (ms) => {
      delays.push(ms)
      await new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50)))
    },
    ...opts,
  })
  const get = (extra: Partial<HttpRequest> = {}): HttpRequest => ({
    upstream: 'V8', method: 'GET', url: `${sb.url}${CONFIGS}`, route: `GET ${CONFIGS}`, headers: { authorization: `Bearer ${token}` }, idempotent: true, ...extra,
  })
  const calls = async (route: string): Promise<number> => (await sb.stats()).routes[route] ?? 0
  return { sb, http, get, delays, calls, token }
}
t.test('injected 503s on a GET are retried with growing, jittered backoff, and succeed', async (t) => {
  const { sb, http, get, delays, calls } = await setup(t, { backoffMs: 100, maxBackoffMs: 1000 })
  await sb.faults({ status: 503, routes: [CONFIGS], count: 3 })
  const res = await http.send(get())
  t.equal(res.status, 200, 'succeeded in the end')
  t.ok(Array.isArray((res.body as { configs: unknown[] }).configs), 'JSON body parsed')
  t.equal(await calls(`GET ${CONFIGS}`), 4, 'three failures + one success')
  t.equal(delays.length, 3, 'three pauses')
  t.ok(delays[0]! >= 50 && delays[0]! <= 100, `1st pause in [50, 100] (${delays[0]})`)
  t.ok(delays[1]! >= 100 && delays[1]! <= 200, `2nd pause in [100, 200] (${delays[1]})`)
  t.ok(delays[2]! >= 200 && delays[2]! <= 400, `3rd pause in [200, 400] (${delays[2]})`)
})

t.test('a 429 with Retry-After is waited for exactly that long, then retried', async (t) => {
  const { sb, http, get, delays } = await setup(t)
  await sb.faults({ status: 429, retry_after_s: 2, routes: [CONFIGS], count: 1 })
  const res = await http.send(get())
  t.equal(res.status, 200, 'succeeded after the pause')
  t.same(delays, [2000], 'paused for the Retry-After')
})

t.test('a Retry-After beyond the limit is not waited for: the 429 goes back to the caller', async (t) => {
  const { sb, http, get, delays, calls } = await setup(t, { maxRetryAfterMs: 5000 })
  await sb.faults({ status: 429, retry_after_s: 60, routes: [CONFIGS], count: 1 })
  const res = await http.send(get())
  t.equal(res.status, 429, 'the 429 answer is returned')
  t.equal(retryAfterMs(res.headers), 60_000, 'with its Retry-After')
  t.same(delays, [], 'no pause')
  t.equal(await calls(`GET ${CONFIGS}`), 1, 'one call')
})

t.test('timeouts and connection resets on a GET are retried and succeed', async (t) => {
  const { sb, http, get, calls } = await setup(t)
  await sb.faults([
    { mode: 'timeout', routes: [CONFIGS], count: 1 },
    { mode: 'reset', routes: [CONFIGS], count: 1 },
  ])
  const started = Date.now()
  const res = await http.send(get({ timeoutMs: 300 }))
  t.equal(res.status, 200, 'succeeded')
  t.equal(await calls(`GET ${CONFIGS}`), 3, 'timeout + reset + success')
  t.ok(Date.now() - started < 30_000, 'the per-attempt deadline cut the request the sandbox holds for 60 s')
})

t.test('a non-idempotent POST is sent once: no retry on 503, timeout or reset', async (t) => {
  const { sb, http, token, calls } = await setup(t)
  const post: HttpRequest = { upstream: 'V8', method: 'POST', url: `${sb.url}${CONSULT}`, route: `POST ${CONSULT}`, headers: { authorization: `Bearer ${token}` }, json: {}, idempotent: false, timeoutMs: 300 }
  await sb.faults({ status: 503, routes: [CONSULT], count: 1 })
  t.equal((await http.send(post)).status, 503, 'the 503 comes back as is')
  t.equal(await calls(`POST ${CONSULT}`), 1, 'sent once')

  await sb.faults({ mode: 'timeout', routes: [CONSULT], count: 1 })
  const timeout = await http.send(post).catch((e: unknown) => e)
  t.match(timeout, { code: 'upstream_timeout', statusCode: 504, ambiguous: true }, 'timeout: 504, ambiguous')
  t.equal(await calls(`POST ${CONSULT}`), 2, 'still one send per call')

  await sb.faults({ mode: 'reset', routes: [CONSULT], count: 1 })
  const reset = await http.send(post).catch((e: unknown) => e)
  t.match(reset, { code: 'upstream_unavailable', statusCode: 503, ambiguous: true, message: /conexão interrompida/ }, 'reset: 503, ambiguous')
  t.equal(await calls(`POST ${CONSULT}`), 3, 'still one send per call')
})

t.test('retries are bounded: a GET failing for good returns the last 503 after 1 + retries attempts', async (t) => {
  const { sb, http, get, calls } = await setup(t, { retries: 2 })
  await sb.faults({ status: 503, routes: [CONFIGS] })
  t.equal((await http.send(get())).status, 503, 'the last answer')
  t.equal(await calls(`GET ${CONFIGS}`), 3, 'three attempts')
})

t.test('connection refused: upstream_unavailable, not ambiguous (nothing was sent)', async (t) => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const http = httpClientFor(t, { retries: 1, backoffMs: 1 })
  const err = await http.send({ upstream: 'Kentro', method: 'POST', url: `http://127.0.0.1:${port}/x`, route: 'x', json: {}, idempotent: false }).catch((e: unknown) => e)
  t.ok(err instanceof UpstreamError, 'an UpstreamError')
  t.match(err, { code: 'upstream_unavailable', statusCode: 503, ambiguous: false, upstream: 'Kentro', message: /conexão recusada/ }, 'mapped')
})

t.test("the caller's signal stops the call and its retries", async (t) => {
  const { sb, http, get, calls } = await setup(t, { backoffMs: 60_000, sleep: (ms, signal) => new Promise((resolve, reject) => { const tm = setTimeout(resolve, ms); signal?.addEventListener('abort', () => { clearTimeout(tm); reject(signal.reason) }) }) })
  await sb.faults({ status: 503, routes: [CONFIGS] })
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 100)
  const started = Date.now()
  const err = await http.send(get({ signal: ac.signal })).catch((e: unknown) => e)
  t.match(err, { code: 'upstream_unavailable', message: /cancelada/ }, 'cancelled')
  t.ok(Date.now() - started < 30_000, 'the 60 s pause was cut short')
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(await calls(`GET ${CONFIGS}`), 1, 'aborted during the first pause: no retry after it')
})

t.test('a finished call leaves nothing alive until its deadline: no signal or timer per call is kept', async (t) => {
  // A batch item's signal lives for the whole item while its calls come and go; each call had a 15 s deadline that
  // Node kept reachable (AbortSignal.any of a timeout) until it fired: ~750 bytes per call held for 15 s.
  const { http, get } = await setup(t, { timeoutMs: 60_000 })
  const item = new AbortController()
  await http.send(get({ signal: item.signal }))
  const before = queryObjects(AbortSignal, { format: 'count' })
  const calls = 200
  for (let i = 0; i < calls; i += 20) {
    const answers = await Promise.all(Array.from({ length: 20 }, () => http.send(get({ signal: item.signal }))))
    t.ok(answers.every((a) => a.status === 200), `calls ${i + 1}-${i + 20} answered`)
  }
  // queryObjects collects garbage first: what it counts is what is still reachable.
  const kept = queryObjects(AbortSignal, { format: 'count' }) - before
  t.ok(kept < calls / 4, `${calls} finished calls keep ${kept} AbortSignals alive (a few at most, not one or two per call)`)
})

t.test('debug log: method, route, status, duration; never the token or the body', async (t) => {
  const lines: string[] = []
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _e, cb) => { lines.push(String(chunk)); cb() } }))
  const { http, get, token, sb } = await setup(t, { logger })
  await http.send(get())
  await http.send({ upstream: 'V8', method: 'POST', url: `${sb.url}/oauth/token`, route: 'POST /oauth/token', form: { grant_type: 'password', username: 'x@y.z', password: 'super-secret-pw', audience: 'https://bff.v8sistema.com', client_id: 'c' }, idempotent: false })
  const calls = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'upstream call')
  t.equal(calls.length, 2, 'one line per call')
  t.match(calls[0], { upstream: 'V8', method: 'GET', route: `GET ${CONFIGS}`, status: 200, ms: Number }, 'fields')
  const all = lines.join('\n')
  t.notOk(all.includes(token), 'no token in the log')
  t.notOk(all.includes('super-secret-pw'), 'no password in the log')
})

t.test('Retry-After parsing: seconds or an HTTP date', async (t) => {
  t.equal(retryAfterMs({ 'retry-after': '3' }), 3000, 'delta-seconds')
  t.equal(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 4000), 6000, 'HTTP date')
  t.equal(retryAfterMs({}), undefined, 'absent')
  t.equal(retryAfterMs({ 'retry-after': 'soon' }), undefined, 'garbage ignored')
})
