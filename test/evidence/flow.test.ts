/**
 * The real tenant, over real HTTP, against an INDEPENDENT simulator of V8 and Kentro built from the public evidence
 * (test/fixtures/evidence-sim), for each combination of the forms the evidence allows: old-style fluxo-completo
 * calls for CRM records shaped like the public samples, resumes, refusals, operations, custom simulations.
 */
import t, { type Test } from 'tap'
import { makeCpf, opportunityOf, person, type Person } from '../fixtures/evidence-sim/population.js'
import { startEvidenceSim, type EvidenceSim } from '../fixtures/evidence-sim/server.js'
import { startTenant } from '../fixtures/evidence-sim/tenant.js'
import { COMBINATIONS, type Variants } from '../fixtures/evidence-sim/variants.js'
import { TABLES } from '../fixtures/evidence-sim/v8.js'
import type { World } from '../fixtures/evidence-sim/world.js'

const PEOPLE = (): Person[] => [
  person('ok'),
  person('cpftitle', { crm: 'cpf-title' }),
  person('formatted', { crm: 'formatted' }),
  person('lostzero', { crm: 'lost-zero', cpf: makeCpf(4242, '0') }),
  person('anos', { crm: 'anos' }),
  person('oport', { crm: 'oportunidade', pipeline: 1, stage: 1 }),
  person('birthtypo', { crmBirth: '1969-12-31' }),
  person('blocked', { fate: 'BLOCKED' }),
  person('slow', { fate: 'HOLD' }),
  person('nogender', { v8Knows: false }),
  person('short', { installmentsMax: 18, margin: '120.55' }),
  person('custom'),
  person('pipe3', { pipeline: 3, stage: 30 }),
  person('legacyactive'),
  person('legacyrejected'),
  person('legacywaiting'),
  person('legacysimulated'),
  person('lostcreate'),
  person('lostauth'),
  person('revoked'),
  person('eightdigit'),
  person('wrongstage', { pipeline: 1, stage: 1 }),
]

/** The simulation V8 produced for this CPF's consult, newest last. */
function simulationsOf (w: World, cpf: string): Array<Record<string, unknown>> {
  const ids = new Set(w.consultsOf(cpf).map((c) => c.id))
  return [...w.simulations.values()].filter((s) => ids.has(s.consultId)).map((s) => s.answer)
}

function resultado (body: Record<string, unknown>): Record<string, unknown> {
  return (body['resultado'] ?? {}) as Record<string, unknown>
}

/** The product's simulation carries exactly the numbers the simulator produced. */
function sameNumbers (t: Test, got: Record<string, unknown>, sim: Record<string, unknown> | undefined, what: string): void {
  t.ok(sim, `${what}: the simulator produced a simulation`)
  if (!sim) return
  const option = (sim['disbursement_option'] ?? (sim['disbursement_options'] as unknown[] | undefined)?.[0]) as Record<string, unknown> | null | undefined
  t.equal(got['id_simulation'], sim['id_simulation'], `${what}: V8's id_simulation`)
  t.equal(Number(got['valor_parcela']), sim['installment_value'], `${what}: installment`)
  t.equal(Number(got['numero_parcelas']), sim['number_of_installments'], `${what}: installment count`)
  t.equal(Number(got['valor_liberado']), option?.['final_disbursement_amount'] ?? sim['disbursed_issue_amount'], `${what}: released amount`)
  t.equal(Number(got['valor_emissao']), sim['issue_amount'], `${what}: issue amount`)
}

async function scenario (t: Test, v: Variants): Promise<void> {
  const sim: EvidenceSim = await startEvidenceSim(v, (w) => {
    w.add(...PEOPLE())
    w.addOperation(w.byKey('ok'), 'formalization', '1908.29', 2)
    w.addOperation(w.byKey('anos'), 'paid', '5081.35', 10)
    w.addOperation(w.byKey('blocked'), 'paid', '999.99', 45)
    // Consults the older system left at V8 (it listed 30 days or the current month, and created with fixed data).
    w.seedConsult(w.byKey('legacyactive'), { status: 'SUCCESS', daysAgo: 40 })
    w.seedConsult(w.byKey('legacyrejected'), { status: 'REJECTED', daysAgo: 3, description: 'Data de nascimento nao confere', sentBirth: '1990-01-01' })
    w.seedConsult(w.byKey('legacywaiting'), { status: 'WAITING_CONSENT', daysAgo: 1 })
    const simulated = w.byKey('legacysimulated')
    w.seedSimulation(w.seedConsult(simulated, { status: 'SUCCESS', daysAgo: 2 }), TABLES[1]!.id, 24, Number(simulated.margin))
    // 158 rows of the export hold 55 + DDD + 8 digits (a mobile written before the ninth digit).
    const eight = w.byKey('eightdigit')
    const opp = w.opportunityOfCpf(eight.cpf)!
    opp['mainphone'] = `55${eight.areaCode}${eight.phone.slice(1)}`
  })
  t.teardown(() => sim.close())
  const w = sim.world
  // Kentro moves an opportunity only within its pipeline (kentro.md §2.5, §8.13): each pipeline its own stage.
  const api = await startTenant(t, sim, { DEFAULT_GENDER: 'F', KENTRO_STAGE_BY_PIPELINE: '1:4,3:31' })
  const cpf = (key: string): string => w.byKey(key).cpf

  t.test('old-style fluxo-completo {cpf} reaches the simulation V8 produced', async (t) => {
    const p = w.byKey('ok')
    const r = await api.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })
    t.equal(r.status, 200, `200 (got ${JSON.stringify(r.body).slice(0, 400)})`)
    t.equal(resultado(r.body)['sucesso'], true, 'sucesso')
    const sims = simulationsOf(w, p.cpf)
    sameNumbers(t, resultado(r.body)['simulacao_resultado'] as Record<string, unknown>, sims.at(-1), 'fluxo-completo')
    const consult = w.consultsOf(p.cpf)
    t.equal(consult.length, 1, 'one consult created')
    const sent = consult[0]!.sent
    t.equal(sent['birthDate'], p.birth, 'the CRM birth date went to V8 as YYYY-MM-DD')
    t.equal(sent['gender'], v.clientDataGender ? p.gender : 'female', 'gender: V8 client-data when it has one, else the tenant default')
    t.same(sent['signerPhone'], { phoneNumber: p.phone, countryCode: '55', areaCode: p.areaCode }, 'signerPhone from mainphone')
    t.equal(sent['signerEmail'], p.email, 'e-mail from the CRM form')
    const opp = w.opportunityOfCpf(p.cpf)!
    t.equal(opp['fkStage'], 21, 'opportunity moved to the simulated stage')
    const sim0 = sims.at(-1)!
    const released = Number((sim0['disbursement_option'] as Record<string, unknown> | null)?.['final_disbursement_amount'] ?? sim0['disbursed_issue_amount'])
    t.equal(opp['value'], Math.round(released * 100), 'value written in centavos (×100)')
    t.same((opp['formsdata'] as Record<string, unknown>)['0bfc6250'], `${p.birth.slice(8, 10)}/${p.birth.slice(5, 7)}/${p.birth.slice(0, 4)}`, 'CRM form kept its birth date')

    const again = await api.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })
    t.equal(again.status, 200, 'second call 200')
    t.equal(w.consultsOf(p.cpf).length, 1, 'a second call creates no second consult')
    t.equal((resultado(again.body)['simulacao_resultado'] as Record<string, unknown>)['id_simulation'], sims.at(-1)!['id_simulation'], 'same simulation answered')
  })

  t.test('CRM records shaped like the public samples', async (t) => {
    for (const key of ['cpftitle', 'formatted', 'lostzero', 'anos', 'oport', 'short']) {
      const p = w.byKey(key)
      const r = await api.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })
      t.equal(r.status, 200, `${key}: 200 (got ${r.status} ${JSON.stringify(r.body).slice(0, 400)})`)
      t.equal(resultado(r.body)['sucesso'], true, `${key}: sucesso`)
      sameNumbers(t, (resultado(r.body)['simulacao_resultado'] ?? {}) as Record<string, unknown>, simulationsOf(w, p.cpf).at(-1), key)
      const sent = w.consultsOf(p.cpf)[0]?.sent ?? {}
      t.equal(sent['birthDate'], p.birth, `${key}: birth date`)
      t.equal(sent['signerName'], p.name.toUpperCase() === String(sent['signerName']).toUpperCase() ? sent['signerName'] : p.name, `${key}: a person's name, not a title`)
    }
    t.equal(w.opportunityOfCpf(cpf('oport'))?.['fkStage'], 4, "pipeline 1's opportunity moved to pipeline 1's simulated stage")
    const short = simulationsOf(w, cpf('short')).at(-1)
    t.equal(short?.['number_of_installments'], 18, 'installmentsMax 18: the longest term the limit allows (18), not 12')
  })

  t.test('a rejected consult answers V8 reason', async (t) => {
    for (const [key, reason] of [['birthtypo', 'Data de nascimento nao confere'], ['blocked', 'Consulta de margem bloqueada pelo trabalhador']] as const) {
      const r = await api.call('POST', '/clt/fluxo-completo', { cpf: cpf(key) })
      t.equal(r.status, 200, `${key}: answered (${JSON.stringify(r.body).slice(0, 300)})`)
      t.equal(r.body['success'], false, `${key}: success false`)
      t.equal(resultado(r.body)['motivo_falha'], reason, `${key}: V8's reason`)
      t.equal(resultado(r.body)['status_termo'], 'REJECTED', `${key}: status REJECTED`)
      const again = await api.call('POST', '/clt/fluxo-completo', { cpf: cpf(key) })
      t.equal(resultado(again.body)['motivo_falha'], reason, `${key}: same reason again`)
      t.equal(w.consultsOf(cpf(key)).length, 1, `${key}: no new consult for the same data`)
    }
  })

  t.test('a consult still waiting answers 202/pendente and a later call resumes it', async (t) => {
    const impatient = await startTenant(t, sim, { DEFAULT_GENDER: 'F', FLOW_WAIT_SECONDS: '1' })
    const r = await impatient.call('POST', '/clt/fluxo-completo', { cpf: cpf('slow') })
    t.equal(r.status, 202, `202 (${JSON.stringify(r.body).slice(0, 300)})`)
    t.equal(resultado(r.body)['pendente'], true, 'pendente')
    t.equal(resultado(r.body)['status_termo'], 'WAITING_CONSULT', 'status as V8 has it')
    w.release(cpf('slow'))
    const later = await impatient.call('POST', '/clt/fluxo-completo', { cpf: cpf('slow') })
    t.equal(later.status, 200, `resumed (${JSON.stringify(later.body).slice(0, 300)})`)
    t.equal(resultado(later.body)['sucesso'], true, 'simulated')
    t.equal(w.consultsOf(cpf('slow')).length, 1, 'the same consult, not a new one')
    sameNumbers(t, resultado(later.body)['simulacao_resultado'] as Record<string, unknown>, simulationsOf(w, cpf('slow')).at(-1), 'resumed')
  })

  t.test("a stage of another pipeline: Kentro's answer does not prove the move; the product reads it back", async (t) => {
    // No KENTRO_STAGE_BY_PIPELINE: KENTRO_STAGE_ID 21 (pipeline 4) for an opportunity of pipeline 1 (kentro.md §2.5).
    const plain = await startTenant(t, sim, { DEFAULT_GENDER: 'F' })
    const p = w.byKey('wrongstage')
    const oppId = w.oppIdOf.get(p.cpf)
    const stageCalls = (): number => w.kentroWrites.filter((k) => k.method === 'changeOpportunityStage' && Number(k.body['id']) === oppId).length
    const r = await plain.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })
    t.equal(r.status, 200, `the offer stands (${JSON.stringify(r.body).slice(0, 300)})`)
    t.equal(resultado(r.body)['sucesso'], true, 'sucesso')
    t.equal(w.opportunityOfCpf(p.cpf)?.['fkStage'], 1, 'the CRM did not move: stage 21 is not in pipeline 1')
    t.match(resultado(r.body)['kentro_recusa'], { codigo: /\w/, motivo: /Kentro/ }, 'the answer says the CRM refused to record the offer')
    const readBack = w.calls.findLastIndex((c) => c.upstream === 'kentro' && c.path.endsWith('/getOpportunity') && Number((c.body as Record<string, unknown>)['id']) === oppId)
    const moved = w.calls.findLastIndex((c) => c.upstream === 'kentro' && c.path.endsWith('/changeOpportunityStage'))
    if (v.crossPipelineStage === 'noop') t.ok(readBack > moved, 'Kentro answered 2xx: the opportunity was read back after the move')
    const before = stageCalls()
    const sims = simulationsOf(w, p.cpf).length
    const again = await plain.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })
    t.equal(again.status, 200, 'again: 200')
    t.ok(stageCalls() > before, 'not taken as written: the next call tries the CRM stage again')
    t.equal(simulationsOf(w, p.cpf).length, sims, 'without simulating again')
  })

  t.test('a tenant without DEFAULT_GENDER answers a clear 422 listing sexo', async (t) => {
    const strict = await startTenant(t, sim)
    const r = await strict.call('POST', '/clt/fluxo-completo', { cpf: cpf('nogender') })
    t.equal(r.status, 422, `422 (${JSON.stringify(r.body).slice(0, 300)})`)
    t.equal(r.body['error'], 'dados_faltantes', 'dados_faltantes')
    t.same((r.body['details'] as Record<string, unknown>)['campos'], ['sexo'], 'lists sexo only')
    t.match(String(r.body['message']), /sexo/, 'the message names sexo')
    t.equal(w.consultsOf(cpf('nogender')).length, 0, 'no consult created')
    // The tenant with a declared default goes on with it.
    const ok = await api.call('POST', '/clt/fluxo-completo', { cpf: cpf('nogender') })
    t.equal(ok.status, 200, 'with DEFAULT_GENDER: 200')
    t.equal(w.consultsOf(cpf('nogender'))[0]?.sent['gender'], 'female', 'declared default sent')
  })

  t.test('/v8/operacoes lists rows with name and CPF', async (t) => {
    const r = await api.call('GET', '/v8/operacoes')
    t.equal(r.status, 200, `200 (${JSON.stringify(r.body).slice(0, 300)})`)
    const ops = r.body['operacoes'] as Array<Record<string, unknown>>
    t.equal(r.body['total'], 2, 'the two operations of the last 30 days')
    t.same(ops.map((o) => [o['nome'], o['cpf'], o['valor_liberado'], o['status']]), [
      [w.byKey('ok').name, cpf('ok'), 1908.29, 'formalization'],
      [w.byKey('anos').name, cpf('anos'), 5081.35, 'paid'],
    ], 'rows with name, CPF, amount and status, newest first')
    t.ok(ops.every((o) => typeof o['operationId'] === 'string' && o['operationId'] !== ''), 'operationId kept')
  })

  t.test('simular-personalizada with the old field names', async (t) => {
    const c = cpf('custom')
    const first = await api.call('POST', '/clt/fluxo-completo', { cpf: c })
    t.equal(first.status, 200, 'approved first')
    const doc = await api.call('POST', '/clt/simular-personalizada', { cpf: c, valor: 200, prazo: 12 })
    t.equal(doc.status, 200, `{cpf, valor, prazo}: 200 (${JSON.stringify(doc.body).slice(0, 300)})`)
    const s1 = simulationsOf(w, c).at(-1)
    t.same([s1?.['installment_value'], s1?.['number_of_installments']], [200, 12], 'valor went as the installment, prazo as the count')
    sameNumbers(t, doc.body['resultado'] as Record<string, unknown>, s1, 'valor/prazo')
    const twice = await api.call('POST', '/clt/simular-personalizada', { cpf: c, valor: 200, prazo: 12 })
    t.equal(twice.status, 200, `the same request again (V8 may answer simulation_already_exists): 200 (${JSON.stringify(twice.body).slice(0, 300)})`)
    t.ok(w.simulations.has(String((twice.body['resultado'] as Record<string, unknown>)['id_simulation'])), 'a simulation V8 holds')
    const code = await api.call('POST', '/clt/simular-personalizada', { cpf: c, installment_face_value: 180, number_of_installments: 6 })
    t.equal(code.status, 200, `{cpf, installment_face_value, number_of_installments}: 200 (${JSON.stringify(code.body).slice(0, 300)})`)
    sameNumbers(t, code.body['resultado'] as Record<string, unknown>, simulationsOf(w, c).at(-1), 'V8 names')
    t.equal(w.consultsOf(c).length, 1, 'on the same consult')
  })

  t.test('consults the older system left at V8', async (t) => {
    const active = await api.call('POST', '/clt/fluxo-completo', { cpf: cpf('legacyactive') })
    t.equal(active.status, 200, `an active consult 40 days old is used (${JSON.stringify(active.body).slice(0, 400)})`)
    t.equal(w.consultsOf(cpf('legacyactive')).length, 1, 'no second consult')
    sameNumbers(t, (resultado(active.body)['simulacao_resultado'] ?? {}) as Record<string, unknown>, simulationsOf(w, cpf('legacyactive')).at(-1), 'legacy active')

    const rejected = await api.call('POST', '/clt/fluxo-completo', { cpf: cpf('legacyrejected') })
    t.equal(rejected.status, 200, `answered (${JSON.stringify(rejected.body).slice(0, 400)})`)
    t.equal(resultado(rejected.body)['sucesso'], true, 'rejected for a birth date the CRM has since corrected: a new consult with the right one')
    t.equal(w.consultsOf(cpf('legacyrejected')).length, 2, 'exactly one new consult')

    const waiting = await api.call('POST', '/clt/fluxo-completo', { cpf: cpf('legacywaiting') })
    t.equal(waiting.status, 200, `a consult waiting for consent is authorized and used (${JSON.stringify(waiting.body).slice(0, 400)})`)
    t.equal(w.consultsOf(cpf('legacywaiting')).length, 1, 'no second consult')

    const simulated = await api.call('POST', '/clt/fluxo-completo', { cpf: cpf('legacysimulated') })
    t.equal(simulated.status, 200, `its margin × 24 already simulated by the older system (${JSON.stringify(simulated.body).slice(0, 400)})`)
    t.equal(resultado(simulated.body)['sucesso'], true, 'another table or count is simulated')
    sameNumbers(t, (resultado(simulated.body)['simulacao_resultado'] ?? {}) as Record<string, unknown>, simulationsOf(w, cpf('legacysimulated')).at(-1), 'legacy simulated')
  })

  t.test('answers lost after V8 acted, and a revoked token', async (t) => {
    w.fault('POST', /^\/private-consignment\/consult$/, { status: 502, text: 'Bad Gateway' }, { after: true })
    const created = await api.call('POST', '/clt/fluxo-completo', { cpf: cpf('lostcreate') })
    t.ok([200, 503].includes(created.status), `lost create answer: ${created.status}`)
    const createdAgain = created.status === 200 ? created : await api.call('POST', '/clt/fluxo-completo', { cpf: cpf('lostcreate') })
    t.equal(createdAgain.status, 200, `then simulated (${JSON.stringify(createdAgain.body).slice(0, 300)})`)
    t.equal(w.consultsOf(cpf('lostcreate')).length, 1, 'the consult V8 made is the one used')

    w.fault('POST', /\/authorize$/, { status: 502, text: 'Bad Gateway' }, { after: true })
    const authorized = await api.call('POST', '/clt/fluxo-completo', { cpf: cpf('lostauth') })
    t.equal(authorized.status, 200, `lost authorize answer, retried against an approved consult (${JSON.stringify(authorized.body).slice(0, 300)})`)

    w.tokens.clear()
    const revoked = await api.call('POST', '/clt/fluxo-completo', { cpf: cpf('revoked') })
    t.equal(revoked.status, 200, `a revoked token: one new login (${JSON.stringify(revoked.body).slice(0, 300)})`)

    const eight = await api.call('POST', '/clt/fluxo-completo', { cpf: cpf('eightdigit') })
    t.equal(eight.status, 200, `55 + DDD + 8 digits in mainphone (${JSON.stringify(eight.body).slice(0, 300)})`)
    t.equal((w.consultsOf(cpf('eightdigit'))[0]?.sent['signerPhone'] as Record<string, unknown>)['phoneNumber'], w.byKey('eightdigit').phone, 'the ninth digit added')
  })

  t.test('write-backs keep what the CRM held', async (t) => {
    for (const key of ['ok', 'cpftitle', 'anos', 'lostzero']) {
      const opp = w.opportunityOfCpf(cpf(key))!
      const forms = opp['formsdata'] as Record<string, unknown>
      const before = opportunityOf(w.byKey(key), Number(opp['id']), w.now())['formsdata'] as Record<string, unknown>
      for (const k of Object.keys(before)) t.ok(k in forms, `${key}: form field ${k} still there after the write-back`)
    }
  })

  t.test('odd items in a Kentro listing are skipped and counted in /health', async (t) => {
    const r = await api.call('POST', '/clt/fluxo-completo', { cpf: cpf('pipe3') })
    t.equal(r.status, 200, `the opportunity beside odd items is found (${JSON.stringify(r.body).slice(0, 300)})`)
    t.equal(w.opportunityOfCpf(cpf('pipe3'))?.['fkStage'], 31, "moved to pipeline 3's simulated stage")
    const health = await api.call('GET', '/health')
    const warnings = Number((health.body['checks'] as Record<string, unknown>)['upstream_shape_warnings'])
    if (v.oddItems) t.ok(warnings >= 3, `the three odd items counted (${warnings})`)
    else t.ok(warnings >= 0, 'counted')
  })
}

for (const v of COMBINATIONS) {
  t.test(`evidence simulator: ${v.name}`, (t) => scenario(t, v))
}
