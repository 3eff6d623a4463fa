/** Fuzz: hundreds of random and malformed requests across the CLT and V8 routes → never a 5xx, never a secret in a reply. */
import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { withCheckDigits } from '../../src/domain/cpf.js'
import { AUTH, build } from '../fixtures/app.js'
import { cltTenant } from '../fixtures/clt.js'
import { TEST_API_KEY } from '../fixtures/config.js'

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261124)

function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const ROUTES = ['/clt/fluxo-completo', '/clt/mensagem-whatsapp', '/clt/simular-personalizada', '/clt/simular-cache'] as const
const KEYS = ['cpf', 'valor', 'prazo', 'dados_cliente', 'nome', 'email', 'telefone', 'data_nascimento', 'sexo', '__proto__', 'constructor', '', 'ção', '$where']
const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/octet-stream']
const BAD_JSON = ['{', '{"cpf":', 'nul', '{"cpf": "1",}', "{'cpf': 1}", '[1,2', '"\\u0000"', '{"cpf":"\\ud800"}', '\u0000\u0001', '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}', 'NaN', '1e999999']

function junkFactory (rand: () => number, cpfs: string[]) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const str = (): string => {
    const kind = rand()
    if (kind < 0.2) return pick(cpfs)
    if (kind < 0.3) {
      const c = pick(cpfs)
      return `${c.slice(0, 3)}.${c.slice(3, 6)}.${c.slice(6, 9)}-${c.slice(9)}`
    }
    if (kind < 0.4) return String(Math.floor(rand() * 1e11)).padStart(11, '0')
    if (kind < 0.45) return 'x'.repeat(Math.floor(rand() * 60_000))
    if (kind < 0.55) return ['', ' ', '0', '-1', '1e3', '12,5', '1.500,00', 'null', 'true', '31/02/1990', '1990-01-01', 'M', 'F', 'a@b.c'][Math.floor(rand() * 14)]!
    return Array.from({ length: Math.floor(rand() * 40) }, () => String.fromCodePoint(Math.floor(rand() * 0x2fff))).join('')
  }
  const value = (depth: number): unknown => {
    const k = rand()
    if (k < 0.1) return null
    if (k < 0.15) return rand() < 0.5
    if (k < 0.3) return pick([0, -0, 1, -1, 12, 24, 6, 7, 1.5, 1e308, -1e308, 2 ** 53 + 1, 0.0001, 1500.5, 52998224725])
    if (k < 0.6 || depth > 3) return str()
    if (k < 0.75) return Array.from({ length: Math.floor(rand() * 5) }, () => value(depth + 1))
    return object(depth + 1)
  }
  const object = (depth: number): Record<string, unknown> => {
    // No prototype, so "__proto__" and "constructor" become plain keys of the JSON sent.
    const o: Record<string, unknown> = Object.create(null)
    const n = Math.floor(rand() * 6)
    for (let i = 0; i < n; i++) o[pick(KEYS)] = value(depth)
    return o
  }
  /** A mostly well-formed body with one or two fields spoiled. */
  const plausible = (): Record<string, unknown> => {
    const o: Record<string, unknown> = { cpf: rand() < 0.8 ? pick(cpfs) : value(2), valor: rand() < 0.5 ? 1000 : value(2), prazo: rand() < 0.5 ? 12 : value(2) }
    if (rand() < 0.4) o['dados_cliente'] = rand() < 0.5 ? object(2) : { nome: str(), email: str(), telefone: value(3), data_nascimento: str(), sexo: str() }
    return o
  }
  return { pick, value, object, plausible, str }
}

const text = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))

interface Sent {
  label: string
  res: LightMyRequestResponse
}

async function fire (app: { inject: (o: any) => Promise<LightMyRequestResponse> }, rand: () => number, cpfs: string[], n: number): Promise<Sent[]> {
  const j = junkFactory(rand, cpfs)
  const out: Sent[] = []
  for (let i = 0; i < n; i++) {
    const r = rand()
    const url = j.pick(ROUTES)
    let opts: Record<string, unknown>
    let label: string
    if (r < 0.12) {
      const q = Array.from({ length: Math.floor(rand() * 4) }, () => `${j.pick(['startDate', 'endDate', 'limit', 'page', 'x', 'startDate[]'])}=${encodeURIComponent(text(j.value(3)).slice(0, 200))}`).join('&')
      opts = { method: 'GET', url: `/v8/operacoes?${q}` }
      label = `GET /v8/operacoes?${q.slice(0, 80)}`
    } else if (r < 0.22) {
      const payload = j.pick(BAD_JSON)
      opts = { method: 'POST', url, payload, headers: { 'content-type': 'application/json' } }
      label = `${url} bad JSON ${payload.slice(0, 30)}`
    } else if (r < 0.3) {
      const ct = j.pick(CONTENT_TYPES)
      opts = { method: 'POST', url, payload: rand() < 0.5 ? `cpf=${j.pick(cpfs)}` : JSON.stringify(j.plausible()), headers: { 'content-type': ct } }
      label = `${url} content-type ${ct}`
    } else if (r < 0.33) {
      opts = { method: 'POST', url, payload: JSON.stringify({ cpf: 'x'.repeat(120_000) }), headers: { 'content-type': 'application/json' } }
      label = `${url} oversized`
    } else if (r < 0.36) {
      opts = { method: j.pick(['POST', 'PUT', 'DELETE', 'PATCH']), url, ...(rand() < 0.5 ? {} : { payload: '' }) }
      label = `${url} empty/other method`
    } else if (r < 0.6) {
      opts = { method: 'POST', url, payload: JSON.stringify(j.value(0)), headers: { 'content-type': 'application/json' } }
      label = `${url} random value`
    } else {
      const body = j.plausible()
      opts = { method: 'POST', url, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      label = `${url} ${JSON.stringify(body).slice(0, 100)}`
    }
    const headers = { ...AUTH, ...((opts['headers'] as Record<string, string>) ?? {}) }
    out.push({ label, res: await app.inject({ ...opts, headers }) })
  }
  return out
}

function leaks (sent: Sent[], secrets: string[]): string[] {
  const found: string[] = []
  for (const { label, res } of sent) {
    const text = res.body + JSON.stringify(res.headers)
    for (const s of secrets) {
      const escaped = JSON.stringify(s).slice(1, -1)
      if (text.includes(s) || text.includes(escaped)) found.push(`${label}: ${s.slice(0, 4)}…`)
    }
  }
  return found
}

t.test(`≥ 500 random and malformed requests: no 5xx, JSON errors with a code (seed ${SEED})`, async (t) => {
  const c = await cltTenant(t, { config: { FLOW_WAIT_SECONDS: '0' }, sandbox: { consult_delay_ms: 50 } })
  const people = (await Promise.all((['ok', 'rejected', 'no_opportunity', 'incomplete', 'no_margin', 'slow'] as const).map((s) => c.sb.people(s, 2)))).flat()
  const rand = prng(SEED)
  const cpfs = [...people.map((p) => p.cpf), ...Array.from({ length: 10 }, () => withCheckDigits(String(Math.floor(rand() * 1e9)).padStart(9, '0')))]
  const sent = await fire(c.app, rand, cpfs, 600)
  t.ok(sent.length >= 500, `${sent.length} requests`)
  const fivexx = sent.filter((s) => s.res.statusCode >= 500)
  t.same(fivexx.map((s) => `${s.res.statusCode} ${s.label} → ${s.res.body.slice(0, 160)}`), [], 'no 5xx')
  const badShape = sent.filter((s) => {
    if (s.res.statusCode < 400) return false
    try {
      const b = JSON.parse(s.res.body)
      return b.success !== false || typeof b.error !== 'string' || typeof b.message !== 'string'
    } catch {
      return true
    }
  })
  t.same(badShape.map((s) => `${s.res.statusCode} ${s.label}`), [], 'every error is {success:false, error, message}')
  const statuses = [...new Set(sent.map((s) => s.res.statusCode))].sort()
  t.ok(statuses.includes(200) && statuses.includes(400) && statuses.includes(422), `a spread of answers: ${statuses.join(', ')}`)
  t.same(leaks(sent, [TEST_API_KEY]), [], 'the API key never appears')
  t.ok(c.services.tokens.status().cached, 'the flows really ran against V8 (a token is cached)')
})

t.test('wrong upstream credentials: upstream errors, never a 500, never the secret', async (t) => {
  const c = await cltTenant(t, { config: { FLOW_WAIT_SECONDS: '0' } })
  const secrets = {
    V8_PASSWORD: 'V8-s3cr3t "quoted" #$& pass',
    KENTRO_API_KEY: 'kentro-S3CRET-key-0123456789',
    PRESENCABANK_PASSWORD: 'presenca-S3CRET-pass',
  }
  const [p] = await c.sb.people('ok', 1)
  const rand = prng(SEED + 1)
  const cpfs = [p!.cpf, withCheckDigits('123456789')]
  const all: Sent[] = []
  for (const [name, config] of [
    ['wrong V8 password', { V8_PASSWORD: secrets.V8_PASSWORD, PRESENCABANK_PASSWORD: secrets.PRESENCABANK_PASSWORD }],
    ['wrong Kentro key', { KENTRO_API_KEY: secrets.KENTRO_API_KEY }],
  ] as const) {
    const { app } = await build(t, { config: { ...c.sb.tenantConfig(), V8_MAX_RPS: '1000', FLOW_WAIT_SECONDS: '0', ...config } })
    const direct = [
      await app.inject({ method: 'POST', url: '/clt/fluxo-completo', headers: AUTH, payload: { cpf: p!.cpf } }),
      await app.inject({ method: 'POST', url: '/clt/simular-cache', headers: AUTH, payload: { cpf: p!.cpf } }),
      await app.inject({ method: 'GET', url: '/v8/operacoes', headers: AUTH }),
    ]
    for (const res of direct) all.push({ label: `${name} ${res.statusCode}`, res })
    t.ok(direct.some((r) => r.statusCode === 502 || r.statusCode === 503), `${name}: the upstream refusal is a 502/503 (${direct.map((r) => r.statusCode).join(', ')})`)
    all.push(...(await fire(app, rand, cpfs, 60)))
  }
  t.same(all.filter((s) => s.res.statusCode === 500).map((s) => `${s.label} → ${s.res.body.slice(0, 160)}`), [], 'no 500')
  t.same(leaks(all, [TEST_API_KEY, ...Object.values(secrets)]), [], 'no secret in any reply')
})
