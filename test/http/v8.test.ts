/** GET /v8/operacoes against the sandbox: default range, normalization, shapes, pagination, date validation, failures. */
import t from 'tap'
import { dateRange, parseDateParam } from '../../src/http/routes/v8.js'
import { cltTenant } from '../fixtures/clt.js'

const DAY = 86_400_000

t.test('default: the last 30 days, normalized', async (t) => {
  const c = await cltTenant(t)
  const res = await c.get('/v8/operacoes')
  t.equal(res.statusCode, 200, '200')
  const body = res.json()
  t.equal(body.success, true, 'success')
  t.ok(body.operacoes.length > 5 && body.operacoes.length < 30, `only the last 30 days of the 60 (${body.operacoes.length})`)
  t.equal(body.total, body.operacoes.length, 'total counts the answer')
  const span = Date.parse(body.periodo.endDate) - Date.parse(body.periodo.startDate)
  t.equal(span, 30 * DAY, 'a 30-day range')
  for (const op of body.operacoes) {
    t.ok(Date.parse(op.createdAt) >= Date.parse(body.periodo.startDate), `op ${op.contractNumber} is in range`)
  }
  const op = body.operacoes[0]
  t.match(op, {
    operationId: /^[0-9a-f-]{36}$/,
    contractNumber: /^MAG\d{10}$/,
    nome: String,
    cpf: /^\d{11}$/,
    valor_liberado: Number,
    valor_emissao: null,
    status: String,
    empresa: 'QI',
    createdAt: String,
    history: [{ action: 'generating_ccb' }],
  }, 'from the real rows: operationId, name, documentNumber, amounts as text, history actions')
  t.same(body.empresas, ['QI'], 'the provider listed')
  const people = await c.sb.people('ok', 30)
  const named = body.operacoes.filter((o: { cpf: string; nome: string }) => people.some((p) => p.cpf === o.cpf && p.nome === o.nome))
  t.equal(named.length, body.operacoes.length, 'every row carries the name and CPF V8 gave')
  const dates = body.operacoes.map((o: { createdAt: string }) => Date.parse(o.createdAt))
  t.same(dates, [...dates].sort((a: number, b: number) => b - a), 'newest first, as the older route answered')
  const celcoin = (await c.get('/v8/operacoes?provider=CELCOIN')).json()
  t.ok(celcoin.operacoes.length > 0 && celcoin.operacoes.every((o: { empresa: string }) => o.empresa === 'CELCOIN'), 'provider filter (the older route had it)')
  t.same(celcoin.empresas, ['CELCOIN'], 'named')
  t.equal((await c.get('/v8/operacoes?provider=XYZ')).statusCode, 400, 'an unknown provider → 400')
})

t.test('every list shape V8 uses reads the same', async (t) => {
  const c = await cltTenant(t)
  const wide = await c.get(`/v8/operacoes?startDate=${new Date(Date.now() - 365 * DAY).toISOString().slice(0, 10)}&limit=100`)
  t.equal(wide.statusCode, 200, 'a year back → 200')
  const data = wide.json().operacoes
  t.equal(data.length, 20, "all 20 of the sandbox's 30 operations made with the tenant's provider (QI)")
  t.ok(data.every((o: { status: string }) => typeof o.status === 'string'), 'statuses kept')
  for (const shape of ['items', 'data'] as const) {
    await c.sb.configure({ operations_shape: shape })
    const { startDate, endDate } = wide.json().periodo
    const res = await c.get(`/v8/operacoes?startDate=${startDate}&endDate=${endDate}&limit=100`)
    t.same(res.json().operacoes, data, `shape ${shape}`)
  }
})

t.test('pagination', async (t) => {
  const c = await cltTenant(t)
  const from = new Date(Date.now() - 365 * DAY).toISOString()
  const p1 = (await c.get(`/v8/operacoes?startDate=${from}&limit=10&page=1`)).json()
  const p2 = (await c.get(`/v8/operacoes?startDate=${from}&limit=10&page=2`)).json()
  const p3 = (await c.get(`/v8/operacoes?startDate=${from}&limit=10&page=3`)).json()
  t.equal(p1.operacoes.length, 10, 'page 1 full')
  t.equal(p2.operacoes.length, 10, 'page 2 full (20 QI operations)')
  t.equal(p3.operacoes.length, 0, 'page 3 empty')
  t.equal(p2.pagina, 2, 'pagina echoed')
  t.not(p1.operacoes[0].operationId, p2.operacoes[0].operationId, 'different pages')
})

t.test('dates are validated: 400, never a 5xx', async (t) => {
  const c = await cltTenant(t)
  const bad: Array<[string, string]> = [
    ['startDate=ontem', 'data_invalida'],
    ['endDate=2025-02-30', 'data_invalida'],
    ['startDate=2025-13-01', 'data_invalida'],
    ['startDate=99999-01-01', 'data_invalida'],
    ['startDate=2025-03-01&endDate=2025-02-01', 'periodo_invalido'],
    ['startDate=2020-01-01&endDate=2025-01-01', 'periodo_invalido'],
    ['limit=0', 'requisicao_invalida'],
    ['limit=abc', 'requisicao_invalida'],
    ['limit=1000', 'requisicao_invalida'],
    ['page=-1', 'requisicao_invalida'],
    [`startDate=${'9'.repeat(100)}`, 'requisicao_invalida'],
  ]
  for (const [q, code] of bad) {
    const res = await c.get(`/v8/operacoes?${q}`)
    t.equal(res.statusCode, 400, `${q.slice(0, 40)} → 400`)
    t.equal(res.json().error, code, `code ${code}`)
  }
  const same = await c.get('/v8/operacoes?startDate=2025-03-01&endDate=2025-03-01')
  t.equal(same.statusCode, 200, 'a one-day range (end of day inclusive) is fine')
  t.equal(same.json().periodo.endDate, '2025-03-01T23:59:59.999Z', 'a date-only endDate covers the whole day')
})

t.test('date helpers', async (t) => {
  t.equal(parseDateParam('2025-01-31', 'start'), Date.UTC(2025, 0, 31), 'start of day')
  t.equal(parseDateParam('2025-01-31T10:00:00-03:00', 'start'), Date.UTC(2025, 0, 31, 13), 'offset honoured')
  t.equal(parseDateParam('2025-02-29', 'start'), null, 'not a leap year')
  t.equal(parseDateParam('1700000000', 'start'), null, 'epoch numbers are not dates here')
  const now = Date.UTC(2026, 5, 15)
  t.same(dateRange({}, now), { start: now - 30 * DAY, end: now }, 'default range')
  t.same(dateRange({ endDate: '2026-01-31' }, now), { start: Date.UTC(2026, 0, 31) + DAY - 1 - 30 * DAY, end: Date.UTC(2026, 0, 31) + DAY - 1 }, '30 days before a given end')
})

t.test('V8 failures: the upstream status and reason, not a 500', async (t) => {
  const c = await cltTenant(t)
  await c.sb.faults({ status: 503, routes: ['/private-consignment/operation'] })
  const res = await c.get('/v8/operacoes')
  t.equal(res.statusCode, 503, '503')
  t.match(res.json().message, /V8 indisponível/, 'says V8 is unavailable')
  await c.sb.faults({ status: 503, routes: ['/oauth/token'] })
  c.services.tokens.invalidateAll()
  const auth = await c.get('/v8/operacoes')
  t.ok([502, 503].includes(auth.statusCode), `login failure → ${auth.statusCode}`)
  const noKey = await c.app.inject({ method: 'GET', url: '/v8/operacoes' })
  t.equal(noKey.statusCode, 401, 'API key required')
})
