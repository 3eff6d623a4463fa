/** GET /metrics: off without METRICS_TOKEN (404), its own token (not the API key), and every family with real values and no CPF or secret. */
import t from 'tap'
import { AUTH, build } from '../fixtures/app.js'
import { cltTenant } from '../fixtures/clt.js'
import { TEST_API_KEY } from '../fixtures/config.js'

const TOKEN = 'metrics-token-0123456789abcdef0123456789abcdef'
const SCRAPE = { authorization: `Bearer ${TOKEN}` }

/** The value of one sample line, e.g. value(text, 'clt_v8_v8_token_cached'). */
function value (text: string, sample: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? undefined : Number(line.slice(sample.length + 1))
}

t.test('no METRICS_TOKEN: /metrics is 404 like an unknown route, whatever the caller sends', async (t) => {
  const { app } = await build(t)
  for (const headers of [{}, AUTH, SCRAPE]) {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers })
    t.equal(res.statusCode, 404, `404 with ${Object.keys(headers).length ? 'a header' : 'nothing'}`)
    t.equal(res.json().error, 'rota_nao_encontrada', 'the not-found shape')
  }
})

t.test('metrics turned on at run time (a token saved): counts since start, prom-client loaded then', async (t) => {
  const { app, store, services } = await build(t)
  // Before: no prom-client work at all; an upstream call report is simply not recorded yet.
  services.metrics.upstreamCall({ upstream: 'V8', route: 'GET /x', outcome: '2xx', seconds: 0.1 })
  for (let i = 0; i < 2; i++) await app.inject({ method: 'GET', url: '/health' })
  await app.inject({ method: 'GET', url: '/cache/simulacoes', headers: { authorization: 'Bearer wrong-key' } })
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: SCRAPE })).statusCode, 404, 'off while no token')
  store.update({ METRICS_TOKEN: TOKEN })
  await services.metrics.enable()
  services.metrics.upstreamCall({ upstream: 'V8', route: 'GET /x', outcome: '2xx', seconds: 0.1 })
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: SCRAPE })
  t.equal(res.statusCode, 200, 'on at once after the save')
  t.equal(value(res.body, 'clt_v8_http_requests_total{method="GET",route="/health",status="200"}'), 2, 'requests counted from the start')
  t.equal(value(res.body, 'clt_v8_auth_failures_total{reason="wrong_key"}'), 1, 'refused keys counted from the start')
  t.equal(value(res.body, 'clt_v8_upstream_request_duration_seconds_count{upstream="V8",route="GET /x",outcome="2xx"}'), 1, 'upstream latency from the moment metrics were on')
})

t.test('the token: missing or wrong → 401 (counted); the API key is not a scrape token; the token is not an API key', async (t) => {
  const { app } = await build(t, { config: { METRICS_TOKEN: TOKEN } })
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401, 'no token → 401')
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: AUTH })).statusCode, 401, 'the API key → 401')
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}x` } })).statusCode, 401, 'a wrong token → 401')
  t.equal((await app.inject({ method: 'GET', url: '/cache/simulacoes', headers: SCRAPE })).statusCode, 401, 'the metrics token opens no API route')
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: SCRAPE })
  t.equal(res.statusCode, 200, 'the right token → 200')
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/, 'Prometheus text format')
  t.equal(value(res.body, 'clt_v8_auth_failures_total{reason="metrics_token"}'), 3, 'three refused scrapes counted')
  t.equal(value(res.body, 'clt_v8_auth_failures_total{reason="wrong_key"}'), 1, 'the metrics token sent to the API counted as a wrong key')
  t.notOk(res.body.includes(TOKEN) || res.body.includes(TEST_API_KEY), 'neither the token nor the API key in the output')
  t.match(res.body, /^clt_v8_process_resident_memory_bytes \d+/m, 'process metrics')
})

t.test('wrong tokens lock the address out like wrong API keys: 429 + Retry-After, that address only, counted', async (t) => {
  let clock = 1_000_000
  const { app } = await build(t, { now: () => clock, config: { METRICS_TOKEN: TOKEN, AUTH_FAILURES_PER_MINUTE: '3', AUTH_LOCKOUT_SECONDS: '30' } })
  const scrape = (remoteAddress: string, headers: Record<string, string> = SCRAPE) => app.inject({ method: 'GET', url: '/metrics', headers, remoteAddress })
  const wrong = { authorization: `Bearer ${TOKEN}-old` }
  for (let i = 0; i < 3; i++) t.equal((await scrape('203.0.113.7', wrong)).statusCode, 401, `wrong token ${i + 1} → 401`)
  const locked = await scrape('203.0.113.7')
  t.equal(locked.statusCode, 429, 'then the right token from that address is refused unchecked')
  t.equal(locked.json().error, 'muitas_tentativas_chave', 'the lockout code of the API key')
  t.equal(locked.headers['retry-after'], '30', 'with Retry-After')
  t.match(locked.json().message, /tokens de métricas errados.*tente de novo em 30 s/, 'saying why and when')
  t.equal((await scrape('203.0.113.7', {})).statusCode, 429, 'no token either: still locked out')
  t.equal((await app.inject({ method: 'GET', url: '/cache/simulacoes', headers: AUTH, remoteAddress: '203.0.113.7' })).statusCode, 200, 'the API key from that address still works (its own count)')
  const other = await scrape('198.51.100.9')
  t.equal(other.statusCode, 200, 'another address scrapes during the lockout')
  t.equal(value(other.body, 'clt_v8_auth_failures_total{reason="metrics_token"}'), 3, 'the wrong tokens counted as metrics_token')
  t.equal(value(other.body, 'clt_v8_auth_failures_total{reason="locked_out"}'), 2, 'the refused ones as locked_out')
  clock += 30_000
  t.equal((await scrape('203.0.113.7')).statusCode, 200, 'after the lockout the right token works again')
})

t.test('off (no METRICS_TOKEN): guesses are not counted and lock nobody out', async (t) => {
  const { app, store } = await build(t, { config: { AUTH_FAILURES_PER_MINUTE: '1' } })
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer guess' } })).statusCode, 404, `guess ${i + 1} → 404`)
  store.update({ METRICS_TOKEN: TOKEN })
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: SCRAPE })).statusCode, 200, 'turned on: the right token works at once')
})

t.test('requests by route pattern and status; a CPF in a URL never becomes a label', async (t) => {
  const { app } = await build(t, { config: { METRICS_TOKEN: TOKEN } })
  const cpf = '52998224725'
  for (let i = 0; i < 3; i++) await app.inject({ method: 'GET', url: '/health' })
  await app.inject({ method: 'GET', url: `/cache/simulacao/${cpf}`, headers: AUTH })
  await app.inject({ method: 'GET', url: `/cache/simulacao/${cpf}` })
  await app.inject({ method: 'GET', url: `/nao-existe/${cpf}` })
  const text = (await app.inject({ method: 'GET', url: '/metrics', headers: SCRAPE })).body
  t.equal(value(text, 'clt_v8_http_requests_total{method="GET",route="/health",status="200"}'), 3, '/health counted three times')
  t.equal(value(text, 'clt_v8_http_requests_total{method="GET",route="/cache/simulacao/:cpf",status="404"}'), 1, 'the cache read, by its route pattern')
  t.equal(value(text, 'clt_v8_http_requests_total{method="GET",route="/cache/simulacao/:cpf",status="401"}'), 1, 'the unauthenticated one, 401')
  t.equal(value(text, 'clt_v8_http_requests_total{method="GET",route="unmatched",status="404"}'), 1, 'an unknown URL is "unmatched"')
  t.notOk(text.includes(cpf) || text.includes(cpf.slice(0, 9)), 'no CPF anywhere in the output')
  t.equal(value(text, 'clt_v8_v8_token_cached'), 0, 'no V8 token yet')
  t.equal(value(text, 'clt_v8_batch_items{state="PENDING"}'), 0, 'no batch items')
  t.equal(value(text, 'clt_v8_upstream_shape_warnings_total'), undefined, 'no shape warning series before one happens')
})

t.test('against the sandbox: upstream calls with latency, token state, flows by outcome, batch items by state', async (t) => {
  const c = await cltTenant(t, { config: { METRICS_TOKEN: TOKEN } })
  const [ok] = await c.sb.people('ok', 1)
  const [rejected] = await c.sb.people('rejected', 1)
  t.equal((await c.post('/clt/fluxo-completo', { cpf: ok!.cpf })).statusCode, 200, 'a flow that succeeds')
  const r = await c.post('/clt/fluxo-completo', { cpf: rejected!.cpf })
  t.ok(r.statusCode < 500, `a flow the consult rejects (${r.statusCode})`)
  const text = (await c.app.inject({ method: 'GET', url: '/metrics', headers: SCRAPE })).body

  const login = value(text, 'clt_v8_upstream_request_duration_seconds_count{upstream="V8",route="POST /oauth/token",outcome="2xx"}')
  t.ok(login !== undefined && login >= 1, `V8 logins counted with their outcome (${login})`)
  t.match(text, /clt_v8_upstream_request_duration_seconds_bucket\{le="0\.025",upstream="V8",route="POST \/oauth\/token",outcome="2xx"\} \d+/, 'with latency buckets')
  t.match(text, /clt_v8_upstream_request_duration_seconds_count\{upstream="Kentro",route="[^"]+",outcome="2xx"\} [1-9]/, 'Kentro calls too')
  t.equal(value(text, 'clt_v8_v8_token_cached'), 1, 'the V8 token is cached')
  t.ok((value(text, 'clt_v8_v8_token_expires_in_seconds') ?? 0) > 0, 'and expires later')
  t.equal(value(text, 'clt_v8_flows_total{bank="v8",outcome="success",code=""}'), 1, 'one successful flow')
  t.match(text, /clt_v8_flows_total\{bank="v8",outcome="failed",code="[a-z_]+"\} 1/, 'one failed flow, by its code')
  const batch = await c.post('/clt/lotes', { cpfs: [ok!.cpf, '11111111111'] })
  t.equal(batch.statusCode, 202, `a batch (${batch.body.slice(0, 120)})`)
  const after = (await c.app.inject({ method: 'GET', url: '/metrics', headers: SCRAPE })).body
  const items = ['PENDING', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELLED'].reduce((n, s) => n + (value(after, `clt_v8_batch_items{state="${s}"}`) ?? 0), 0)
  t.equal(items, 2, 'the batch items, by state')
  t.ok((value(after, 'clt_v8_batch_items{state="FAILED"}') ?? 0) >= 1, 'the invalid CPF is a failed item')
  for (const p of [ok!, rejected!]) t.notOk(text.includes(p.cpf), 'no CPF of a flow in the output')
  t.notOk(text.includes('sandbox-client') || text.includes(TEST_API_KEY), 'no credential in the output')
  for (const cpf of [ok!.cpf, rejected!.cpf, '11111111111']) t.notOk(after.includes(cpf), 'no CPF of a flow or a batch item in the output after the batch')
})

t.test('log lines written and dropped, from the logger\'s own counters', async (t) => {
  const { pino } = await import('pino')
  const { ConfigStore } = await import('../../src/config/store.js')
  const { openDatabase } = await import('../../src/db/database.js')
  const { createTenant } = await import('../../src/tenant.js')
  const { testConfig } = await import('../fixtures/config.js')
  const stats = { out: { written: 120, dropped: 7, droppedReported: 7, rotations: 0, errors: 0 }, error: { written: 3, dropped: 0, droppedReported: 0, rotations: 0, errors: 0 } }
  const tenant = await createTenant({
    config: new ConfigStore(testConfig(6999, { METRICS_TOKEN: TOKEN })),
    db: openDatabase(':memory:'),
    logger: pino({ level: 'silent' }),
    logStats: () => stats,
    batch: { start: false },
    events: { start: false },
  })
  t.teardown(() => tenant.close())
  let text = (await tenant.app.inject({ method: 'GET', url: '/metrics', headers: SCRAPE })).body
  t.equal(value(text, 'clt_v8_log_lines_dropped_total{destination="out"}'), 7, 'dropped lines of the out file')
  t.equal(value(text, 'clt_v8_log_lines_written_total{destination="error"}'), 3, 'lines written to the error file')
  stats.out.dropped = 9
  text = (await tenant.app.inject({ method: 'GET', url: '/metrics', headers: SCRAPE })).body
  t.equal(value(text, 'clt_v8_log_lines_dropped_total{destination="out"}'), 9, 'read again at each scrape')
})
