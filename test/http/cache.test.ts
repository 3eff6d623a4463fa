import t from 'tap'
import { SimulationCache } from '../../src/domain/simulation-cache.js'
import { withCheckDigits } from '../../src/domain/cpf.js'
import { openDatabase } from '../../src/db/database.js'
import { AUTH, build } from '../fixtures/app.js'

const HOUR = 3_600_000

const CPF = withCheckDigits('529982247') // 529.982.247-25
const formatted = `${CPF.slice(0, 3)}.${CPF.slice(3, 6)}.${CPF.slice(6, 9)}-${CPF.slice(9)}`
const simulacao = { installment_value: 312.5, number_of_installments: 24, disbursement_amount: 5000, nota: 'café' }

function clock (start = Date.UTC(2026, 0, 10, 12)): { now: () => number; advance(ms: number): void } {
  let at = start
  return { now: () => at, advance: (ms) => { at += ms } }
}

const save = (body: unknown) => ({ method: 'POST' as const, url: '/cache/simulacao/salvar', headers: AUTH, payload: body as object })

t.test('cache routes need the API key', async (t) => {
  const { app } = await build(t)
  for (const [method, url] of [
    ['POST', '/cache/simulacao/salvar'],
    ['GET', `/cache/simulacao/${CPF}`],
    ['GET', '/cache/simulacoes'],
    ['DELETE', `/cache/simulacao/${CPF}`],
  ] as const) {
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 401, `${method} ${url} without key → 401`)
  }
})

t.test('save, read (any CPF format), list, delete', async (t) => {
  const c = clock()
  const { app } = await build(t, { now: c.now })
  const saved = await app.inject(save({ cpf: formatted, consultId: 'c-1', dadosSimulacao: simulacao, dadosCliente: { nome: 'Ana' } }))
  t.equal(saved.statusCode, 200, 'saved')
  const s = saved.json().simulacao
  t.equal(s.cpf, CPF, 'stored under the normalized CPF')
  t.equal(s.consultId, 'c-1', 'consult id')
  t.same(s.dadosSimulacao, simulacao, 'simulation data round-trips')
  t.equal(s.expiresAt, new Date(c.now() + 24 * HOUR).toISOString(), 'default TTL 24 h')

  for (const form of [CPF, formatted, CPF.slice(0, 9) + '-' + CPF.slice(9)]) {
    const got = await app.inject({ method: 'GET', url: `/cache/simulacao/${encodeURIComponent(form)}`, headers: AUTH })
    t.equal(got.statusCode, 200, `read as ${form}`)
    t.same(got.json().simulacao.dadosCliente, { nome: 'Ana' }, `client data (${form})`)
  }

  const other = withCheckDigits('111444777')
  c.advance(1000)
  await app.inject(save({ cpf: Number(other), consultId: 'c-2', dadosSimulacao: { x: 1 } }))
  c.advance(1000)
  const replaced = await app.inject(save({ cpf: CPF, consultId: 'c-3', dadosSimulacao: { y: 2 }, dadosCliente: null }))
  t.equal(replaced.json().simulacao.consultId, 'c-3', 'a second save replaces the CPF row')

  const list = await app.inject({ method: 'GET', url: '/cache/simulacoes', headers: AUTH })
  t.equal(list.statusCode, 200, 'list 200')
  const body = list.json()
  t.equal(body.total, 2, 'two CPFs cached')
  t.same([body.page, body.limit], [1, 20], 'default page and limit')
  t.same(body.simulacoes.map((x: { cpf: string }) => x.cpf), [CPF, other], 'newest first')

  const p2 = await app.inject({ method: 'GET', url: '/cache/simulacoes?page=2&limit=1', headers: AUTH })
  t.same([p2.json().total, p2.json().simulacoes.length, p2.json().simulacoes[0].cpf], [2, 1, other], 'pagination')

  const del = await app.inject({ method: 'DELETE', url: `/cache/simulacao/${formatted}`, headers: AUTH })
  t.equal(del.statusCode, 200, 'deleted')
  const gone = await app.inject({ method: 'GET', url: `/cache/simulacao/${CPF}`, headers: AUTH })
  t.equal(gone.statusCode, 404, 'absent after delete')
  t.equal(gone.json().error, 'cache_nao_encontrado', 'stable code')
  const again = await app.inject({ method: 'DELETE', url: `/cache/simulacao/${CPF}`, headers: AUTH })
  t.equal(again.statusCode, 404, 'deleting twice → 404')
})

t.test('bad input: 422 for an invalid CPF, 400 for wrong types, 413 for a huge body', async (t) => {
  const { app } = await build(t)
  for (const cpf of ['12345678900', '11111111111', '123', 'abc', '529.982.247-26']) {
    const res = await app.inject(save({ cpf, consultId: 'c', dadosSimulacao: {} }))
    t.equal(res.statusCode, 422, `save ${cpf} → 422`)
    t.equal(res.json().error, 'cpf_invalido', `save ${cpf}: cpf_invalido`)
    const get = await app.inject({ method: 'GET', url: `/cache/simulacao/${cpf}`, headers: AUTH })
    t.equal(get.statusCode, 422, `get ${cpf} → 422`)
    const del = await app.inject({ method: 'DELETE', url: `/cache/simulacao/${cpf}`, headers: AUTH })
    t.equal(del.statusCode, 422, `delete ${cpf} → 422`)
  }
  for (const [name, body] of [
    ['no consultId', { cpf: CPF, dadosSimulacao: {} }],
    ['dadosSimulacao not an object', { cpf: CPF, consultId: 'c', dadosSimulacao: 'x' }],
    ['dadosSimulacao an array', { cpf: CPF, consultId: 'c', dadosSimulacao: [1] }],
    ['cpf an object', { cpf: { a: 1 }, consultId: 'c', dadosSimulacao: {} }],
    ['dadosCliente a string', { cpf: CPF, consultId: 'c', dadosSimulacao: {}, dadosCliente: 'x' }],
  ] as const) {
    const res = await app.inject(save(body))
    t.equal(res.statusCode, 400, `${name} → 400`)
    t.equal(res.json().error, 'requisicao_invalida', `${name}: code`)
  }
  for (const q of ['page=0', 'limit=101', 'page=x', 'limit=-1']) {
    const res = await app.inject({ method: 'GET', url: `/cache/simulacoes?${q}`, headers: AUTH })
    t.equal(res.statusCode, 400, `list ?${q} → 400`)
  }
  const huge = await app.inject(save({ cpf: CPF, consultId: 'c', dadosSimulacao: { pad: 'x'.repeat(120 * 1024) } }))
  t.equal(huge.statusCode, 413, 'over 100 kB → 413')
  t.equal(huge.json().error, 'corpo_muito_grande', '413 code')
})

t.test('TTL: expired rows are invisible, then purged; CACHE_TTL_HOURS applies', async (t) => {
  const c = clock()
  const { app, db } = await build(t, { now: c.now, config: { CACHE_TTL_HOURS: '2' } })
  await app.inject(save({ cpf: CPF, consultId: 'c', dadosSimulacao: {} }))
  c.advance(2 * HOUR - 1)
  t.equal((await app.inject({ method: 'GET', url: `/cache/simulacao/${CPF}`, headers: AUTH })).statusCode, 200, 'visible just before the TTL')
  c.advance(1)
  t.equal((await app.inject({ method: 'GET', url: `/cache/simulacao/${CPF}`, headers: AUTH })).statusCode, 404, 'gone at the TTL')
  const list = await app.inject({ method: 'GET', url: '/cache/simulacoes', headers: AUTH })
  t.equal(list.json().total, 0, 'not listed once expired')
  t.equal((db.prepare('SELECT count(*) AS n FROM simulation_cache').get() as { n: number }).n, 0, 'purged lazily by the list')
  t.equal((await app.inject({ method: 'DELETE', url: `/cache/simulacao/${CPF}`, headers: AUTH })).statusCode, 404, 'delete of an expired row → 404')
})

t.test('repository: lazy purge cadence and the flow port', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const c = clock()
  const cache = new SimulationCache(db, { ttlMs: () => HOUR, now: c.now, purgeEveryMs: 10 * 60_000 })
  cache.save({ cpf: CPF, consultId: 'a', dadosSimulacao: { v: 1 } })
  c.advance(HOUR + 1)
  t.equal(cache.get(CPF), undefined, 'expired row invisible to get')
  const count = (): number => (db.prepare('SELECT count(*) AS n FROM simulation_cache').get() as { n: number }).n
  t.equal(count(), 1, 'still stored until a purge')
  cache.save({ cpf: withCheckDigits('111444777'), consultId: 'b', dadosSimulacao: {} })
  t.equal(count(), 1, 'the next save purged the expired row')
  t.equal(cache.purgeExpired(), 0, 'nothing left to purge')
  const entry = cache.get(withCheckDigits('111444777'))
  t.equal(entry?.consultId, 'b', 'get returns consultId (the flow port)')
  t.equal(entry?.expiresAt, c.now() + HOUR, 'and expiresAt')
  t.throws(() => cache.save({ cpf: '123', consultId: 'x', dadosSimulacao: {} }), { code: 'cpf_invalido', statusCode: 422 }, 'invalid CPF refused')
})
