/** Fault injection of the sandbox: statuses, latency, held requests, resets, counts, route/method scoping, seeded error rate. */
import t from 'tap'
import { consultBodyFor, http, startSandbox, v8Token } from '../fixtures/sandbox.js'

const LIST = '/private-consignment/consult'
const K = '/kentro/int/getOpportunity'
const KBODY = { queueId: 25, apiKey: 'sandbox', id: 100000 }

t.test('status faults use each upstream error body; the control plane is never touched', async (t) => {
  const sb = await startSandbox(t)
  const token = await v8Token(sb.url)
  await sb.faults({ status: 503 })
  const v8 = await http(sb.url, 'GET', LIST, { token })
  t.equal(v8.status, 503, 'V8 call → 503')
  t.match(v8.body, { type: 'service_unavailable', title: 'Service Unavailable' }, 'V8 error body')
  const auth = await http(sb.url, 'POST', '/oauth/token', { json: {} })
  t.equal(auth.status, 503, 'auth → 503')
  t.equal(auth.body.error, 'server_error', 'Auth0-style body')
  const kentro = await http(sb.url, 'POST', K, { json: KBODY })
  t.same(kentro.body, { message: 'Service Unavailable' }, 'Kentro-style body')
  t.equal((await http(sb.url, 'GET', '/__sandbox/stats')).status, 200, '/__sandbox is not faulted')
  const stats = await sb.stats()
  t.equal(stats.faults_injected, 3, 'three faults counted')
  t.equal(stats.routes['GET /private-consignment/consult'], 1, 'faulted calls still count as calls')
  await sb.faults({ status: 429, retry_after_s: 2 })
  const limited = await http(sb.url, 'GET', LIST, { token })
  t.equal(limited.status, 429, '429 injected')
  t.equal(limited.headers['retry-after'], '2', 'Retry-After header')
  t.equal(limited.body.type, 'too_many_requests', 'V8 429 type')
  t.equal((await http(sb.url, 'POST', '/oauth/token', { json: {} })).body.error, 'too_many_requests', 'Auth0 429 body')
  await sb.clearFaults()
  t.equal((await http(sb.url, 'GET', LIST, { token })).status, 200, 'DELETE /__sandbox/faults clears')
})

t.test('count, routes and methods scope a rule', async (t) => {
  const sb = await startSandbox(t)
  const token = await v8Token(sb.url)
  await sb.faults({ status: 500, count: 2 })
  const statuses = []
  for (let i = 0; i < 3; i++) statuses.push((await http(sb.url, 'GET', LIST, { token })).status)
  t.same(statuses, [500, 500, 200], 'only the next 2 calls fail')
  t.equal((await sb.stats()).faults_active, 0, 'the rule is gone once used up')
  await sb.faults({ status: 502, routes: ['/kentro'] })
  t.equal((await http(sb.url, 'GET', LIST, { token })).status, 200, 'V8 untouched by a Kentro rule')
  t.equal((await http(sb.url, 'POST', K, { json: KBODY })).status, 502, 'Kentro faulted')
  await sb.faults({ status: 503, methods: ['GET'], routes: ['/private-consignment'] })
  t.equal((await http(sb.url, 'GET', LIST, { token })).status, 503, 'GET faulted')
  t.equal((await http(sb.url, 'POST', LIST, { token, json: {} })).status, 400, 'POST passes (and fails validation on its own)')
  await sb.faults([{ status: 503, routes: ['/oauth'] }, { status: 429, routes: ['/private-consignment'] }])
  t.equal((await http(sb.url, 'POST', '/oauth/token', { json: {} })).status, 503, 'first of two rules')
  t.equal((await http(sb.url, 'GET', LIST, { token })).status, 429, 'second of two rules')
  const bad = await http(sb.url, 'POST', '/__sandbox/faults', { json: { status: 418 } })
  t.equal(bad.status, 400, 'an unsupported status is refused')
})

t.test('latency delays without failing; error_rate is seeded and repeatable', async (t) => {
  const sb = await startSandbox(t)
  const token = await v8Token(sb.url)
  await sb.faults({ latency_ms: 150, routes: ['/private-consignment'] })
  const started = performance.now()
  const res = await http(sb.url, 'GET', LIST, { token })
  t.equal(res.status, 200, 'answered normally')
  t.ok(performance.now() - started >= 140, 'after the injected latency')
  const run = async (): Promise<number[]> => {
    await sb.reset()
    const tk = await v8Token(sb.url)
    await sb.faults({ error_rate: 0.5, status: 503, routes: ['/private-consignment'] })
    const out = []
    for (let i = 0; i < 40; i++) out.push((await http(sb.url, 'GET', LIST, { token: tk })).status)
    return out
  }
  const first = await run()
  const failures = first.filter((s) => s === 503).length
  t.ok(failures > 5 && failures < 35, `about half fail (${failures}/40)`)
  t.same(await run(), first, 'the same sequence after a reset (seeded)')
})

t.test('timeout holds the request until the client gives up or the hold ends; reset drops the connection', async (t) => {
  const sb = await startSandbox(t)
  const token = await v8Token(sb.url)
  await sb.configure({ timeout_hold_ms: 400 })
  await sb.faults({ mode: 'timeout', routes: ['/private-consignment'] })
  let started = performance.now()
  const gaveUp = await http(sb.url, 'GET', LIST, { token, signal: AbortSignal.timeout(150) }).then(() => null, (err: Error) => err)
  t.ok(gaveUp, 'no answer before the client deadline')
  t.match(gaveUp?.name ?? '', /Timeout|Abort/, `the client's own deadline fired (${gaveUp?.name})`)
  t.ok(performance.now() - started >= 140, 'after the deadline')
  started = performance.now()
  const dropped = await http(sb.url, 'GET', LIST, { token }).then(() => null, (err: Error & { code?: string }) => err)
  t.ok(dropped, 'without a client deadline the socket is dropped at the end of the hold')
  t.ok(performance.now() - started >= 390, 'after timeout_hold_ms')
  t.equal((await http(sb.url, 'POST', '/oauth/token', { json: {} })).status, 400, 'other routes answer meanwhile')

  await sb.faults({ mode: 'reset', routes: ['/kentro'] })
  const reset = await http(sb.url, 'POST', K, { json: KBODY }).then(() => null, (err: Error & { code?: string }) => err)
  t.ok(reset, 'reset mode → connection error')
  t.match(reset?.code ?? reset?.message ?? '', /SOCKET|ECONNRESET|closed/i, `a socket-level error (${reset?.code})`)
  await sb.clearFaults()
  t.equal((await http(sb.url, 'POST', K, { json: KBODY })).status, 200, 'healthy again after clearing')
  t.equal((await sb.stats()).faults_injected, 3, 'held, dropped and reset calls counted')
})

t.test("phase 'after': the upstream acts, the answer is lost (ambiguous failure)", async (t) => {
  const sb = await startSandbox(t)
  const token = await v8Token(sb.url)
  const [a, b, c] = await sb.people('ok', 3)
  const created = async (cpf: string) => (await http(sb.url, 'GET', `${LIST}?search=${cpf}`, { token })).body.data.length
  await sb.faults({ phase: 'after', status: 504, methods: ['POST'], routes: [LIST], count: 1 })
  const lost = await http(sb.url, 'POST', LIST, { token, json: consultBodyFor(a!) })
  t.equal(lost.status, 504, 'the client sees 504')
  t.equal(lost.body.type, 'service_unavailable', 'with a V8 error body')
  t.equal(await created(a!.cpf), 1, 'yet the consult exists upstream')
  await sb.faults({ phase: 'after', mode: 'reset', methods: ['POST'], routes: [LIST], count: 1 })
  const reset = await http(sb.url, 'POST', LIST, { token, json: consultBodyFor(b!) }).then(() => null, (err: Error) => err)
  t.ok(reset, 'the connection drops after the work is done')
  t.equal(await created(b!.cpf), 1, 'the consult exists upstream')
  await sb.faults({ phase: 'after', mode: 'timeout', methods: ['POST'], routes: [LIST], count: 1 })
  const held = await http(sb.url, 'POST', LIST, { token, json: consultBodyFor(c!), signal: AbortSignal.timeout(200) }).then(() => null, (err: Error) => err)
  t.ok(held, 'no answer before the client deadline')
  t.equal(await created(c!.cpf), 1, 'the consult exists upstream')
  const retry = await http(sb.url, 'POST', LIST, { token, json: consultBodyFor(a!) })
  t.equal(retry.body.type, 'consult_already_exists_by_user_and_document_number', 'a blind retry meets the duplicate refusal')
  t.equal((await sb.stats()).consults_created, 3, 'three consults, none duplicated')
})

t.test('closing the sandbox does not wait for held requests', async (t) => {
  const sb = await startSandbox(t)
  await sb.faults({ mode: 'timeout' })
  const pending = http(sb.url, 'POST', '/oauth/token', { json: {} }).then(() => 'answered', () => 'dropped')
  await new Promise((resolve) => setTimeout(resolve, 50))
  const started = performance.now()
  await sb.close()
  t.ok(performance.now() - started < 30_000, 'close() does not wait out the 60 s hold')
  t.equal(await pending, 'dropped', 'the held request is dropped')
})

t.test('reset clears state, stats and faults; keeps config unless asked', async (t) => {
  const sb = await startSandbox(t, { tokenTtlSeconds: 600 })
  const token = await v8Token(sb.url)
  await sb.configure({ token_ttl_s: 60, operations_shape: 'items' })
  await sb.faults({ status: 503, routes: ['/kentro'] })
  await sb.reset()
  const stats = await sb.stats()
  t.equal(stats.tokens_issued, 0, 'stats cleared')
  t.same(stats.routes, {}, 'route counters cleared')
  t.equal(stats.faults_active, 0, 'faults cleared')
  t.equal((await http(sb.url, 'GET', LIST, { token })).status, 401, 'tokens forgotten')
  const cfg = (await http(sb.url, 'GET', '/__sandbox/config')).body
  t.equal(cfg.token_ttl_s, 60, 'config kept')
  await sb.reset({ config: true })
  const back = (await http(sb.url, 'GET', '/__sandbox/config')).body
  t.equal(back.token_ttl_s, 600, 'config back to the start options')
  t.equal(back.operations_shape, 'array', 'shape back to default (a bare array, as V8 answers)')
  const bad = await http(sb.url, 'POST', '/__sandbox/config', { json: { token_ttl_s: 0 } })
  t.equal(bad.status, 400, 'invalid config refused')
  t.equal((await http(sb.url, 'POST', '/__sandbox/config', { json: { nope: 1 } })).status, 400, 'unknown config key refused')
})
