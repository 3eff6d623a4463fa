/** CltFlow against scripted V8/Kentro stand-ins: ladder × tables, margins, borrower sources, resume, serialization, retries, write-back. */
import t from 'tap'
import { pino } from 'pino'
import { openDatabase } from '../../src/db/database.js'
import { CltFlow, type FlowDeps } from '../../src/domain/flow/index.js'
import { FlowResultsRepository } from '../../src/domain/flow/results.js'
import { simulatedStage } from '../../src/domain/flow/kentro-write.js'
import { fitLadder, installmentPlan, maximumIn, orderTables } from '../../src/domain/flow/simulation.js'
import { SimulationCache } from '../../src/domain/simulation-cache.js'
import { upstreamRejected, upstreamUnavailable } from '../../src/upstream/errors.js'
import type { ClientData, Consult, Simulation, SimulationConfig } from '../../src/upstream/v8.js'
import type { Opportunity, OpportunityChanges } from '../../src/upstream/kentro.js'
import { testConfig } from '../fixtures/config.js'

const CPF = '52998224725'
const table = (id: string, slug: string, insured: boolean | null, counts = [6, 12, 18, 24, 36]): SimulationConfig =>
  ({ id, slug, name: null, is_insured: insured, monthly_interest_rate: 1.99, number_of_installments: counts }) as SimulationConfig
/** As V8 lists them: the insured table first. */
const CONFIGS = [table('cfg-ins', 'clt-acelera-seguro', true), table('cfg-a', 'clt-acelera', false)]

/** A consult as the client returns it (every margin field present, null when V8 did not send it). */
const consult = (c: Partial<Consult> & { id: string; status: string }): Consult =>
  ({ description: null, availableMarginValue: null, marginBaseValue: null, recommendedSimulationInstallmentValue: null, recommendedSimulationInstallmentNumber: null, simulationLimit: null, name: null, createdAt: null, documentNumber: CPF, ...c }) as Consult

interface Script {
  /** Detail (getConsult) sequence per consult index (last one repeats). */
  statuses?: Array<Partial<Consult>>
  /** Which simulations V8 accepts. */
  accepts?: (n: number, body: Record<string, unknown>) => true | { type: string; text: string }
  createError?: Error
  kentroWriteError?: Error
  birthDates?: string[]
  limit?: Consult['simulationLimit']
  /** What V8's client-data answers (undefined = it does not know the person). */
  clientData?: ClientData | undefined
  /** Form values of the opportunity (merged over the default, no gender key). */
  forms?: Record<string, unknown>
  title?: string
  /** The list row's availableMarginValue (default: the detail's margin once SUCCESS). */
  listMargin?: string
  /** A consult at V8 made before this service (the older system's): the first consult, described by `statuses`. */
  preexisting?: boolean
  /** POST consult answers consult_already_exists and the client reuses one it found (id and status only). */
  createReuses?: boolean
}

const KNOWN: ClientData = { name: 'MARIA DA SILVA', birthDate: '1993-08-14T00:00:00.000Z', email: 'maria.v8@example.com', phoneRegionCode: '11', phoneNumber: '987654321', gender: 'female' }

function harness (t: { teardown(fn: () => void): void }, script: Script = {}, opts: { kentro?: boolean; config?: Record<string, string> } = {}) {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const calls = { create: 0, authorize: 0, get: 0, list: 0, clientData: 0, simulate: [] as number[], tables: [] as string[], update: 0, stage: 0, getOpp: 0, merges: [] as OpportunityChanges[] }
  const consults: Consult[] = script.preexisting ? [consult({ id: 'legacy', status: 'REJECTED' })] : []
  const reads = new Map<string, number>()
  let birthReads = 0
  const detail = (c: Consult, advance: boolean): Consult => {
    const idx = consults.indexOf(c)
    const seq = (idx === 0 ? script.statuses : undefined) ?? [{ status: 'SUCCESS', marginBaseValue: '300.00', recommendedSimulationInstallmentValue: '300.00' }]
    const k = reads.get(c.id) ?? 0
    if (advance) reads.set(c.id, k + 1)
    const step = seq[Math.min(k, seq.length - 1)]!
    return consult({ ...c, ...step, ...(step.marginBaseValue && script.limit ? { simulationLimit: script.limit } : {}) })
  }
  /** The list row: availableMarginValue on SUCCESS, no limits. */
  const row = (c: Consult): Consult => {
    const d = detail(c, false)
    return consult({ id: d.id, status: d.status, description: d.description, availableMarginValue: d.status === 'SUCCESS' ? (script.listMargin ?? d.marginBaseValue ?? d.availableMarginValue) : null })
  }
  const opportunity = (): Opportunity =>
    ({
      id: '100',
      title: script.title ?? 'MARIA DA SILVA',
      mainphone: '5511987654321',
      mainmail: CPF,
      fkStage: 10,
      tags: [2],
      description: 'Lead',
      formsdata: { '9e7f92b0': 'maria@example.com', '0bfc6250': script.birthDates?.[Math.min(birthReads++, script.birthDates.length - 1)] ?? '14/08/1993', ...script.forms },
    }) as Opportunity
  const v8: FlowDeps['v8'] = {
    async createConsult () {
      calls.create++
      if (script.createError) throw script.createError
      if (script.createReuses) {
        consults.push(consult({ id: 'old', status: 'SUCCESS' }))
        return { id: 'old', status: 'SUCCESS', reused: true }
      }
      const c = consult({ id: `c${consults.length + 1}`, status: 'WAITING_CONSENT' })
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
      return detail(c, true)
    },
    async findLatestConsultByCpf () {
      calls.list++
      const last = consults[consults.length - 1]
      return last ? row(last) : undefined
    },
    async clientData () {
      calls.clientData++
      return 'clientData' in script ? script.clientData : KNOWN
    },
    async simulationConfigs () {
      return CONFIGS
    },
    async simulate (req) {
      calls.simulate.push(req.number_of_installments)
      calls.tables.push(req.config_id)
      if (req.config_id === 'cfg-ins') throw upstreamRejected('V8', 'POST simulation', 400, 'provider_does_not_have_insurance_active', 'Provedor informado não possui seguro ativo')
      const verdict = script.accepts?.(req.number_of_installments, req as unknown as Record<string, unknown>) ?? true
      if (verdict !== true) throw upstreamRejected('V8', 'POST simulation', 400, verdict.type, verdict.text)
      return { id_simulation: `s${calls.simulate.length}`, installment_value: 300, number_of_installments: req.number_of_installments, disbursed_issue_amount: 4000.5, disbursement_option: null } as Simulation
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
    async mergeIntoOpportunity (_id, changes) {
      calls.update++
      calls.merges.push(changes)
      if (script.kentroWriteError) throw script.kentroWriteError
    },
    async changeOpportunityStage () {
      calls.stage++
    },
  }
  const config = testConfig(6999, { KENTRO_STAGE_ID: '21', KENTRO_TAG_ID: '7', ...opts.config })
  const results = new FlowResultsRepository(db)
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

t.test('the simulated stage: per pipeline when configured (Kentro moves only within a pipeline), else KENTRO_STAGE_ID', async (t) => {
  const config = testConfig(6999, { KENTRO_STAGE_ID: '21', KENTRO_STAGE_BY_PIPELINE: '1:4,3:0' })
  t.equal(simulatedStage(config, 1), 4, "pipeline 1's own stage")
  t.equal(simulatedStage(config, 3), 0, '0: that pipeline is left alone')
  t.equal(simulatedStage(config, 4), 21, 'unlisted: KENTRO_STAGE_ID')
  t.equal(simulatedStage(config, undefined), 21, 'pipeline unknown: KENTRO_STAGE_ID')
})

t.test('installment plan', async (t) => {
  t.same(installmentPlan(), [24, 12, 6], 'default ladder')
  t.same(installmentPlan(36), [36, 24, 12, 6], 'a long prazo first, then the ladder below it')
  t.same(installmentPlan(12), [12, 6], 'a short prazo only goes down')
  const offered = [6, 8, 10, 12, 18, 24, 36, 48]
  t.same(fitLadder([24, 12, 6], 18, 6, offered), [24, 18, 12, 6], 'installmentsMax 18: 18 comes before 12')
  t.same(fitLadder([24, 12, 6], 20, 6, offered), [24, 18, 12, 6], 'a maximum no table offers snaps down into the list')
  t.same(fitLadder([24, 12, 6], 24, 6, offered), [24, 12, 6], 'within the limit: unchanged')
  t.same(fitLadder([12, 6], 18, 6, offered), [12, 6], 'a prazo below the limit is what was asked')
  t.same(fitLadder([36, 24, 12, 6], 30, 6, offered), [36, 24, 12, 6], 'the largest within is already there')
  t.same(fitLadder([24, 12, 6], null, null, offered), [24, 12, 6], 'no limit known')
  t.same(fitLadder([24, 12, 6], 7, 6, offered), [24, 12, 6], 'the cap (6) already in the list')
  t.equal(maximumIn('O número de parcelas deve ser menor ou igual a 18.'), 18, 'the maximum V8 names')
  t.equal(maximumIn('Numero de parcelas maior que o permitido'), undefined, 'no number, no maximum')
  t.equal(maximumIn('installments must be at most 18'), 18, 'English wording')
})

t.test('the ladder stops at the first count that works', async (t) => {
  const one = harness(t)
  const r1 = await one.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r1.kind, 'success', 'success')
  t.same(one.calls.tables, ['cfg-a'], 'one simulation call when 24 works (the table without insurance first: the default)')

  const two = harness(t, { accepts: (n) => (n <= 12 ? true : { type: 'simulation_installments_above_maximum', text: 'max 12' }) })
  const r2 = await two.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r2.kind, 'success', 'success at 12')
  t.same(two.calls.simulate, [24, 12], 'two calls when only 12 works')
  t.equal(r2.kind === 'success' && r2.resultado.simulacao_resultado?.['numero_parcelas'], 12, 'the 12x simulation is returned')

  const limited = harness(t, { limit: { installmentsMin: 6, installmentsMax: 18 } })
  await limited.flow.run({ cpf: CPF }, { waitMs: 1000 })
  const named = harness(t, { accepts: (n) => (n <= 18 ? true : { type: 'simulation_installments_above_maximum', text: 'O número de parcelas deve ser menor ou igual a 18.' }) })
  const r3 = await named.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.same(named.calls.simulate, [24, 18], 'no limit known: the maximum V8 names in its refusal is asked next, not 12')
  t.equal(r3.kind === 'success' && r3.resultado.simulacao_resultado?.['numero_parcelas'], 18, 'the 18x simulation is returned')
  t.same(limited.calls.simulate, [18], "counts above the detail's simulationLimit are skipped without a call; the longest term within it (18) is asked")
})

t.test('a fixed amount above the margin does not walk down the ladder', async (t) => {
  const h = harness(t, { accepts: () => ({ type: 'simulation_installment_value_above_margin', text: 'above margin' }) })
  const r = await h.flow.run({ cpf: CPF, amount: { kind: 'disbursed', value: 99999 } }, { waitMs: 1000 })
  t.equal(r.kind === 'failed' && r.code, 'simulacao_recusada', 'refused')
  t.same(h.calls.tables, ['cfg-a'], 'one call: fewer installments would only raise the installment')
})

t.test('a simulation asks for the installment asked, the released amount asked, or the margin', async (t) => {
  const seen: Array<Record<string, unknown>> = []
  const h = harness(t, {
    accepts: (_n, body) => {
      seen.push(body)
      return true
    },
  })
  await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  await h.flow.run({ cpf: CPF, amount: { kind: 'disbursed', value: 1500 } }, { waitMs: 1000 })
  await h.flow.run({ cpf: CPF, amount: { kind: 'installment', value: 150 } }, { waitMs: 1000 })
  t.equal(seen[0]?.['installment_face_value'], 300, 'installment = margin')
  t.equal(seen[1]?.['disbursed_amount'], 1500, 'valor_liberado → disbursed_amount')
  t.notOk('installment_face_value' in (seen[1] ?? {}), 'never both')
  t.equal(seen[2]?.['installment_face_value'], 150, 'valor / valor_parcela → installment_face_value')
})

t.test('pending, then resumed without a second consult', async (t) => {
  const h = harness(t, { statuses: [{ status: 'WAITING_CONSULT' }, { status: 'WAITING_CONSULT' }, { status: 'SUCCESS', marginBaseValue: '300.00' }] })
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
  const h = harness(t, { statuses: [{ status: 'WAITING_CONSULT' }, { status: 'SUCCESS', marginBaseValue: '300.00' }] })
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
  const fixed = await h.flow.run({ cpf: CPF, supplied: { data_nascimento: '1993-08-15' } }, { waitMs: 1000 })
  t.equal(h.calls.create, 2, 'a corrected date supplied by the caller opens one new consult')
  t.equal(fixed.kind, 'success', 'and it succeeds')
})

t.test('a birth-date rejection of a consult made before this service: V8’s detail says which date it was made with', async (t) => {
  const rejected = { status: 'REJECTED', description: 'Data de nascimento nao confere' }
  const other = harness(t, { preexisting: true, statuses: [{ ...rejected, birthDate: '1990-01-01' }] })
  const r = await other.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r.kind, 'success', 'made with another date than the CRM holds now: one new consult, which succeeds')
  t.equal(other.calls.create, 1, 'exactly one new consult')
  const same = harness(t, { preexisting: true, statuses: [{ ...rejected, birthDate: '1993-08-14T00:00:00.000Z' }] })
  const s = await same.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(s.kind === 'failed' && s.code, 'termo_recusado', 'made with the date the CRM still holds: V8’s refusal stands')
  t.equal(same.calls.create, 0, 'no consult created')
})

t.test('a consult V8 says already exists is reused, its margin read from the detail', async (t) => {
  const h = harness(t, { createReuses: true, listMargin: '' })
  const r = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r.kind, 'success', 'simulated on the reused consult')
  t.match(r.kind === 'success' && r.resultado.termo_resultado, { id: 'old', marginBaseValue: '300.00' }, 'the detail was read for the margin')
})

t.test('someone else’s identical simulation (simulation_already_exists, not ours): the next table, then the next count', async (t) => {
  const h = harness(t, { accepts: (n) => (n === 24 ? { type: 'simulation_already_exists', text: 'Já existe uma simulação com estes parâmetros' } : true) })
  const r = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r.kind, 'success', 'an offer, as the older system found one')
  t.same(h.calls.simulate, [24, 24, 12], '24 on the plain table (taken), 24 on the insured one (refused), then 12')
  t.equal(r.kind === 'success' && r.resultado.simulacao_resultado?.['numero_parcelas'], 12, 'the 12x offer')
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
  const h = harness(t, { clientData: undefined }, { kentro: false })
  const missing = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(missing.kind === 'failed' && missing.code, 'dados_faltantes', 'everything missing')
  t.same(missing.kind === 'failed' && missing.details?.['campos'], ['nome', 'email', 'telefone', 'data_nascimento', 'sexo'], 'campos listed')
  t.match(missing.kind === 'failed' && missing.erro, /Kentro não está configurado/, 'says why everything is missing')
  const r = await h.flow.run(
    { cpf: CPF, supplied: { nome: 'Ana Souza', email: 'ana@example.com', telefone: '11987654321', data_nascimento: '1980-02-01', sexo: 'F' } },
    { waitMs: 1000 }
  )
  t.equal(r.kind, 'success', 'success')
  t.equal(h.calls.update, 0, 'nothing written to a CRM that is not there')
})

t.test('tables: the tenant preference first; a refused table falls through to the next; the result names it', async (t) => {
  t.same(orderTables(CONFIGS, 'sem_seguro').map((c) => c.id), ['cfg-a', 'cfg-ins'], 'sem_seguro: without insurance first (V8 lists insured first)')
  t.same(orderTables(CONFIGS, 'com_seguro').map((c) => c.id), ['cfg-ins', 'cfg-a'], 'com_seguro')
  t.same(orderTables(CONFIGS, 'clt-acelera-seguro').map((c) => c.id), ['cfg-ins', 'cfg-a'], 'a slug')
  const bySlug = [table('x1', 'clt-sem-seguro', null), table('x2', 'clt-seguro', null), table('x3', 'outra', null)]
  t.same(orderTables(bySlug, 'sem_seguro').map((c) => c.id), ['x1', 'x3', 'x2'], 'without is_insured, the slug says "seguro" (and "sem seguro" is not)')

  const h = harness(t, {}, { config: { V8_SIMULATION_TABLE: 'com_seguro' } })
  const r = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r.kind, 'success', 'success on the next table')
  t.same(h.calls.tables, ['cfg-ins', 'cfg-a'], 'provider_does_not_have_insurance_active → the next table, same count')
  t.match(r.kind === 'success' && r.resultado.simulacao_resultado, { tabela: 'clt-acelera', tabela_com_seguro: false, config_id: 'cfg-a' }, 'the table used is named')

  const ladder = harness(t, { accepts: (n) => (n <= 12 ? true : { type: 'simulation_installments_above_maximum', text: 'max 12' }) }, { config: { V8_SIMULATION_TABLE: 'com_seguro' } })
  await ladder.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.same(ladder.calls.tables, ['cfg-ins', 'cfg-a', 'cfg-a'], 'a table refused as such is not asked again at the next count')
})

t.test('margin: the detail’s marginBaseValue, V8’s lower recommendation, the list row’s availableMarginValue as fallback', async (t) => {
  const seen: Array<Record<string, unknown>> = []
  const accepts = (_n: number, body: Record<string, unknown>): true => {
    seen.push(body)
    return true
  }
  const rec = harness(t, { accepts, statuses: [{ status: 'SUCCESS', marginBaseValue: '300.00', recommendedSimulationInstallmentValue: '250.00' }] })
  await rec.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(seen.pop()?.['installment_face_value'], 250, 'the recommended installment when it is below the margin')

  const noDetailMargin = harness(t, { accepts, statuses: [{ status: 'SUCCESS' }], listMargin: '275.00' })
  const r = await noDetailMargin.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r.kind, 'success', 'a detail without margin fields still simulates')
  t.ok(noDetailMargin.calls.list >= 2, 'the list row was read for availableMarginValue')
  t.equal(seen.pop()?.['installment_face_value'], 275, "at the list row's margin")
  t.match(r.kind === 'success' && r.resultado.termo_resultado, { marginBaseValue: null, availableMarginValue: '275.00' }, 'both reported as V8 gave them')

  const analysis = harness(t, { accepts, statuses: [{ status: 'WAITING_CREDIT_ANALYSIS', marginBaseValue: '180.00' }] })
  const a = await analysis.flow.run({ cpf: CPF }, { waitMs: 0 })
  t.equal(a.kind, 'success', 'WAITING_CREDIT_ANALYSIS with a margin is simulable')
  t.equal(seen.pop()?.['installment_face_value'], 180, 'at that margin')

  const waiting = harness(t, { statuses: [{ status: 'WAITING_CREDIT_ANALYSIS' }] })
  t.equal((await waiting.flow.run({ cpf: CPF }, { waitMs: 0 })).kind, 'pending', 'without a margin it is still pending')
  const none = harness(t, { statuses: [{ status: 'SUCCESS', marginBaseValue: '0.00' }] })
  const n = await none.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(n.kind === 'failed' && n.code, 'sem_margem', 'SUCCESS with margin 0 → sem_margem')
})

t.test('borrower sources: a CRM without gender gets it from V8, recorded in dados_validados.origem and written back', async (t) => {
  const h = harness(t, { title: 'Cliente 52998224725', forms: { '9e7f92b0': 'null' } })
  const r = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r.kind, 'success', 'an old-style {cpf} call against a CRM shaped like the public samples gets an offer')
  t.equal(h.calls.clientData, 1, "V8's client-data asked once")
  const dados = r.kind === 'success' ? r.resultado.dados_validados : null
  t.match(dados, { nome: 'MARIA DA SILVA', email: 'maria.v8@example.com', sexo: 'F', data_nascimento: '1993-08-14' }, 'filled from V8')
  t.same(dados?.origem, { cpf: 'requisicao', nome: 'v8', email: 'v8', telefone: 'kentro', data_nascimento: 'kentro', sexo: 'v8' }, 'each field says where it came from')
  t.same(h.results.get(CPF)?.resultado?.dados_validados?.origem, dados?.origem, 'stored with the result too')
  const merge = h.calls.merges[0]!
  t.match(merge, { fields: { title: 'MARIA DA SILVA', value: 400050 }, formsdata: { '9e7f92b0': 'maria.v8@example.com' }, addTags: [7] }, 'V8’s data written back; value in centavos; the tag added (merged by the client)')
  t.match(merge.fields?.['description'], /dados de fora do CRM: nome=V8, email=V8, sexo=V8/, 'the description says which data came from outside the CRM')
  t.notOk(merge.formsdata && 'sexo' in merge.formsdata, 'no gender key written when the tenant has none')
})

t.test('gender: the tenant’s declared default, else 422 listing sexo; V8 asked only when something is missing', async (t) => {
  const noGender = { ...KNOWN, gender: null }
  const missing = harness(t, { clientData: noGender })
  const m = await missing.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(m.kind === 'failed' && m.code, 'dados_faltantes', '422 dados_faltantes')
  t.same(m.kind === 'failed' && m.details?.['campos'], ['sexo'], 'listing only sexo')
  t.match(m.kind === 'failed' && m.erro, /DEFAULT_GENDER/, 'says the tenant may declare a default')
  t.equal(missing.calls.create, 0, 'no consult without a gender')

  const declared = harness(t, { clientData: noGender }, { config: { DEFAULT_GENDER: 'M' } })
  const d = await declared.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(d.kind, 'success', 'with DEFAULT_GENDER=M it proceeds')
  t.equal(d.kind === 'success' && d.resultado.dados_validados?.origem?.['sexo'], 'padrao_tenant', 'recorded as the tenant default')
  t.notOk(declared.calls.merges[0]?.formsdata, 'a default is never written into the CRM as data')

  const crmKey = harness(t, { forms: { c0ffee00: 'F' } }, { config: { KENTRO_GENDER_FIELD: 'c0ffee00' } })
  const k = await crmKey.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(k.kind === 'success' && k.resultado.dados_validados?.origem?.['sexo'], 'kentro', 'a tenant whose form has a gender key reads it')
  t.equal(crmKey.calls.clientData, 0, 'and V8 is not asked when nothing is missing')

  const asked = harness(t, { clientData: noGender })
  const q = await asked.flow.run({ cpf: CPF, supplied: { sexo: 'F' } }, { waitMs: 1000 })
  t.equal(q.kind === 'success' && q.resultado.dados_validados?.origem?.['sexo'], 'requisicao', 'the request wins')
})

t.test('a CRM that refuses the write-back (not a passing trouble) does not take the offer away', async (t) => {
  const h = harness(t, { kentroWriteError: upstreamRejected('Kentro', 'changeOpportunityStage', 400, 'STAGE_001', 'Etapa de outro funil') })
  const r = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.equal(r.kind, 'success', 'the offer is the answer')
  t.match(r, { etapa: 'kentro_retorno', resultado: { sucesso: true, kentro_recusa: { codigo: 'stage_001', motivo: /Etapa de outro funil/ } } }, 'and it says the CRM refused to record it')
  t.match(h.results.get(CPF), { status: 'SUCCESS', kentroSynced: false, details: { kentro_recusou: 'stage_001' }, resultado: { kentro_recusa: { codigo: 'stage_001' } } }, 'the refusal is kept with the result')
  delete h.script.kentroWriteError
  const written = await h.flow.run({ cpf: CPF }, { waitMs: 1000 })
  t.match(written, { kind: 'success', etapa: 'concluido' }, 'written the next time: concluido')
  t.notOk(written.kind === 'success' && 'kentro_recusa' in written.resultado, 'without the old refusal')
  t.equal(h.calls.update, 2, 'the next call writes again')
  t.equal(h.results.get(CPF)?.kentroSynced, true, 'and then it is synced')
  t.same(h.calls.simulate, [24], 'without a new simulation')
})
