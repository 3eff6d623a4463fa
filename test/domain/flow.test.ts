/** CltFlow against scripted V8/Kentro stand-ins: ladder call counts, resume, serialization, retries, write-back failures. */
import t from 'tap'
import { pino } from 'pino'
import { openDatabase } from '../../src/db/database.js'
import { FlowResultsRepo } from '../../src/domain/flow-results.js'
import { CltFlow, type FlowDeps } from '../../src/domain/flow.js'
import { installmentPlan } from '../../src/domain/flow-simulation.js'
import { SimulationCache } from '../../src/domain/simulation-cache.js'
import { upstreamRejected, upstreamUnavailable } from '../../src/upstream/errors.js'
import type { Opportunity } from '../../src/upstream/kentro.js'
import type { Consult, Simulation } from '../../src/upstream/v8.js'
import { testConfig } from '../fixtures/config.js'

const CPF = '52998224725'
const CONFIGS = [{ id: 'cfg-a', slug: 'a', number_of_installments: [6, 12, 18, 24, 36] }]

interface Script {
  /** Status sequence returned by getConsult per consult index (last one repeats). */
  statuses?: Array<Partial<Consult>>
  /** Which installment counts the simulation accepts. */
  accepts?: (n: number, body: Record<string, unknown>) => true | { type: string; text: string }
  createError?: Error
  kentroWriteError?: Error
  birthDates?: string[]
  limit?: Consult['simulationLimit']
}

function harness (t: { teardown(fn: () => void): void }, script: Script = {}, opts: { kentro?: boolean } = {}) {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const calls = { create: 0, authorize: 0, get: 0, list: 0, simulate: [] as number[], update: 0, stage: 0, getOpp: 0 }
  const consults: Consult[] = []
  const reads = new Map<string, number>()
  let birthReads = 0
  const view = (c: Consult): Consult => {
    const idx = consults.indexOf(c)
    const seq = (idx === 0 ? script.statuses : undefined) ?? [{ status: 'SUCCESS', availableMarginValue: '300.00' }]
    const k = reads.get(c.id) ?? 0
    const step = seq[Math.min(k, seq.length - 1)]!
    return { ...c, ...step, ...(step.status === 'SUCCESS' && script.limit ? { simulationLimit: script.limit } : {}) }
  }
  const opportunity = (): Opportunity =>
    ({
      id: '100',
      title: 'MARIA DA SILVA',
      mainphone: '5511987654321',
      mainmail: CPF,
      fkStage: 10,
      tags: [],
      description: 'Lead',
      formsdata: { '9e7f92b0': 'maria@example.com', '0bfc6250': script.birthDates?.[Math.min(birthReads++, script.birthDates.length - 1)] ?? '14/08/1993', sexo: 'F' },
    }) as Opportunity
  const v8: FlowDeps['v8'] = {
    async createConsult () {
      calls.create++
      if (script.createError) throw script.createError
      const c: Consult = { id: `c${consults.length + 1}`, status: 'WAITING_CONSENT', description: null, availableMarginValue: null, documentNumber: CPF }
      consults.push(c)
      return { id: c.id, status: c.status, reused: false }
    },
    async authorizeConsult () {
      calls.authorize++
    },
    async getConsult (id) {
      calls.get++
      const c = consults.find((x) => x.id === id)
      if (!c) throw upstreamRejected('V8', 'GET consult', 404, 'consult_not_found', 'not found')
      const v = view(c)
      reads.set(id, (reads.get(id) ?? 0) + 1)
      return v
    },
    async findLatestConsultByCpf () {
      calls.list++
      const last = consults[consults.length - 1]
      return last ? view(last) : undefined
    },
    async simulationConfigs () {
      return CONFIGS
    },
    async simulate (req) {
      calls.simulate.push(req.number_of_installments)
      const verdict = script.accepts?.(req.number_of_installments, req as unknown as Record<string, unknown>) ?? true
      if (verdict !== true) throw upstreamRejected('V8', 'POST simulation', 400, verdict.type, verdict.text)
      return { id_simulation: `s${calls.simulate.length}`, installment_value: 300, number_of_installments: req.number_of_installments, disbursed_issue_amount: 4000 } as Simulation
    },
  }
  const kentro: FlowDeps['kentro'] = {
    configured: opts.kentro !== false,
    async findOpportunityByCpf () {
      return opportunity()
    },
    async getOpportunity () {
      calls.getOpp++
      return opportunity()
    },
    async updateOpportunity () {
      calls.update++
      if (script.kentroWriteError) throw script.kentroWriteError
    },
    async changeOpportunityStage () {
      calls.stage++
    },
  }
  const config = testConfig(6999, { KENTRO_STAGE_ID: '21', KENTRO_TAG_ID: '7' })
  const results = new FlowResultsRepo(db)
  const flow = new CltFlow({
    v8,
    kentro,
    config: () => config,
    results,
    cache: new SimulationCache(db, { ttlMs: () => 86_400_000 }),
    logger: pino({ level: 'silent' }),
    poll: { firstMs: 5, maxMs: 20 },
  })
  return { flow, calls, results, script }
}

t.test('installment plan', async (t) => {
  t.same(installmentPlan(), [24, 12, 6], 'default ladder')
  t.same(installmentPlan(36), [36, 24, 12, 6], 'a long prazo first, then the ladder below it')
  t.same(installmentPlan(12), [12, 6], 'a short prazo only goes down')
})

t.test('the ladder stops at the first count that works', async (t) => {
  const one = harness(t)
  const r1 = await one.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r1.kind, 'success', 'success')
  t.same(one.calls.simulate, [24], 'exactly one simulation call when 24 works')

  const two = harness(t, { accepts: (n) => (n <= 12 ? true : { type: 'simulation_installments_above_maximum', text: 'max 12' }) })
  const r2 = await two.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r2.kind, 'success', 'success at 12')
  t.same(two.calls.simulate, [24, 12], 'two calls when only 12 works')
  t.equal(r2.kind === 'success' && r2.resultado.simulacao_resultado?.['numero_parcelas'], 12, 'the 12x simulation is returned')

  const limited = harness(t, { limit: { installmentsMin: 6, installmentsMax: 18 } })
  await limited.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.same(limited.calls.simulate, [12], "counts above the consult's simulationLimit are skipped without a call")
})

t.test('a fixed amount above the margin does not walk down the ladder', async (t) => {
  const h = harness(t, { accepts: () => ({ type: 'simulation_installment_value_above_margin', text: 'above margin' }) })
  const r = await h.flow.run({ cpf: CPF, valor: 99999 }, { waitMs: 1000 })
  t.equal(r.kind === 'failed' && r.code, 'simulacao_recusada', 'refused')
  t.same(h.calls.simulate, [24], 'fewer installments would only raise the installment: one call')
  const body = h.calls.simulate.length
  t.equal(body, 1, 'one call')
})

t.test('a simulation asks for disbursed_amount with valor, the margin otherwise', async (t) => {
  const seen: Array<Record<string, unknown>> = []
  const h = harness(t, {
    accepts: (_n, body) => {
      seen.push(body)
      return true
    },
  })
  await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  await h.flow.run({ cpf: CPF, valor: 1500 }, { waitMs: 1000 })
  t.equal(seen[0]?.['installment_face_value'], 300, 'installment = margin')
  t.equal(seen[1]?.['disbursed_amount'], 1500, 'valor → disbursed_amount')
  t.notOk('installment_face_value' in (seen[1] ?? {}), 'never both')
})

t.test('pending, then resumed without a second consult', async (t) => {
  const h = harness(t, { statuses: [{ status: 'WAITING_CONSULT' }, { status: 'WAITING_CONSULT' }, { status: 'SUCCESS', availableMarginValue: '300.00' }] })
  const first = await h.flow.run({ cpf: CPF }, { waitMs: 0 })
  t.equal(first.kind, 'pending', 'pending with no wait')
  t.equal(first.kind === 'pending' && first.resultado.pendente, true, 'pendente flag')
  t.equal(h.results.get(CPF)?.status, 'PENDING', 'stored as pending')
  const second = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(second.kind, 'success', 'resumed to success')
  t.equal(h.calls.create, 1, 'one consult created in all')
  t.equal(h.calls.authorize, 1, 'authorized once')
})

t.test('concurrent runs for one CPF are serialized: one consult', async (t) => {
  const h = harness(t, { statuses: [{ status: 'WAITING_CONSULT' }, { status: 'SUCCESS', availableMarginValue: '300.00' }] })
  const [a, b] = await Promise.all([h.flow.run({ cpf: CPF }, { waitMs: 500 }), h.flow.run({ cpf: CPF }, { waitMs: 500 })])
  t.equal(a.kind, 'success', 'first succeeds')
  t.equal(b.kind, 'success', 'second succeeds')
  t.equal(h.calls.create, 1, 'one consult')
  t.same(h.calls.simulate, [24], 'the second reuses the stored simulation')
})

t.test('a birth-date rejection is retried once when the CRM date changed meanwhile', async (t) => {
  const h = harness(t, {
    statuses: [{ status: 'REJECTED', description: 'Data de nascimento nao confere' }],
    birthDates: ['14/08/1993', '15/08/1993'],
  })
  const r = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r.kind, 'success', 'the second consult (made with the corrected date) succeeds')
  t.equal(h.calls.create, 2, 'exactly one retry')
  t.equal(h.results.get(CPF)?.birthDateUsed, '1993-08-15', 'the corrected date is recorded')
  const again = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(again.kind, 'success', 'a later call resumes the successful consult')
  t.equal(h.calls.create, 2, 'no third consult')
})

t.test('a birth-date rejection with unchanged data is final and not repeated', async (t) => {
  const h = harness(t, { statuses: [{ status: 'REJECTED', description: 'Data de nascimento nao confere' }] })
  const r = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r.kind === 'failed' && r.code, 'termo_recusado', 'rejected')
  t.equal(r.kind === 'failed' && r.resultado?.status_termo, 'REJECTED', 'status_termo')
  t.equal(r.kind === 'failed' && r.resultado?.motivo_falha, 'Data de nascimento nao confere', 'motivo_falha is the V8 reason')
  await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(h.calls.create, 1, 'calling again creates nothing')
  const fixed = await h.flow.run({ cpf: CPF, dados_cliente: { data_nascimento: '1993-08-15' } }, { waitMs: 1000 })
  t.equal(h.calls.create, 2, 'a corrected date supplied by the caller opens one new consult')
  t.equal(fixed.kind, 'success', 'and it succeeds')
})

t.test('a CRM write failure surfaces; the next call writes without simulating again', async (t) => {
  const h = harness(t, { kentroWriteError: upstreamUnavailable('Kentro', 'updateOpportunity', 'HTTP 503') })
  await t.rejects(h.flow.run({ cpf: CPF }, { waitMs: 1000 }), { code: 'upstream_unavailable', statusCode: 503 }, 'the upstream error goes up')
  t.equal(h.results.get(CPF)?.kentroSynced, false, 'stored as not synced')
  delete h.script.kentroWriteError
  const r = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r.kind, 'success', 'success on the next call')
  t.same(h.calls.simulate, [24], 'no second simulation')
  t.equal(h.calls.update, 2, 'the write was retried')
  t.equal(h.calls.stage, 1, 'stage changed once the write went through')
  t.equal(h.results.get(CPF)?.kentroSynced, true, 'now synced')
  await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(h.calls.update, 2, 'a synced result is not written again')
})

t.test('V8 refusing the consult itself is an outcome; transient trouble is thrown', async (t) => {
  const age = harness(t, { createError: upstreamRejected('V8', 'POST consult', 400, 'age_validation_minimum_age_not_reached', 'too young') })
  const r = await age.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r.kind === 'failed' && r.code, 'termo_nao_criado', 'failed outcome')
  t.equal(age.results.get(CPF)?.code, 'termo_nao_criado', 'stored')
  const down = harness(t, { createError: upstreamUnavailable('V8', 'POST consult', 'HTTP 503') })
  await t.rejects(down.flow.run({ cpf: CPF }, { waitMs: 1000 }), { code: 'upstream_unavailable', statusCode: 503 }, 'thrown, not an outcome')
})

t.test('a FAILED consult is replaced by one new consult', async (t) => {
  const h = harness(t, { statuses: [{ status: 'FAILED', description: 'erro interno' }] })
  const r = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r.kind === 'failed' && r.code, 'termo_falhou', 'the failure is reported')
  const again = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(again.kind, 'success', 'the next call opens a new consult')
  t.equal(h.calls.create, 2, 'exactly one new consult')
})

t.test('without Kentro, dados_cliente alone drives the flow', async (t) => {
  const h = harness(t, {}, { kentro: false })
  const missing = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(missing.kind === 'failed' && missing.code, 'dados_faltantes', 'everything missing')
  t.same(missing.kind === 'failed' && missing.details?.['campos'], ['nome', 'email', 'telefone', 'data_nascimento', 'sexo'], 'campos listed')
  t.match(missing.kind === 'failed' && missing.erro, /Kentro não está configurado/, 'says why everything is missing')
  const r = await h.flow.run(
    { cpf: CPF, dados_cliente: { nome: 'Ana Souza', email: 'ana@example.com', telefone: '11987654321', data_nascimento: '1980-02-01', sexo: 'F' } },
    { waitMs: 1000 }
  )
  t.equal(r.kind, 'success', 'success')
  t.equal(h.calls.update, 0, 'nothing written to a CRM that is not there')
})
