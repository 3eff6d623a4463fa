/** POST /clt/fluxo-completo and /clt/mensagem-whatsapp through app.inject() against the sandbox, one scenario at a time. */
import t from 'tap'
import { cltTenant } from '../fixtures/clt.js'

const BIRTH_KEY = '0bfc6250'
const brDate = (iso: string): string => iso.split('-').reverse().join('/')

t.test('ok: simulated, cached, written back to Kentro, offer text', async (t) => {
  const c = await cltTenant(t)
  const [p] = await c.sb.people('ok', 1)
  const formatted = `${p!.cpf.slice(0, 3)}.${p!.cpf.slice(3, 6)}.${p!.cpf.slice(6, 9)}-${p!.cpf.slice(9)}`
  const res = await c.post('/clt/fluxo-completo', { cpf: formatted })
  t.equal(res.statusCode, 200, `200 (${res.body.slice(0, 200)})`)
  const body = res.json()
  t.equal(body.success, true, 'success')
  const r = body.resultado
  t.equal(r.sucesso, true, 'sucesso')
  t.equal(r.oportunidade_id, String(p!.opportunityId), 'the opportunity found by CPF')
  t.same(r.dados_validados, {
    nome: p!.nome,
    cpf: p!.cpf,
    telefone: p!.telefone,
    data_nascimento: p!.data_nascimento,
    email: p!.email,
    sexo: p!.sexo,
    origem: { cpf: 'requisicao', nome: 'kentro', email: 'kentro', telefone: 'kentro', data_nascimento: 'kentro', sexo: 'v8' },
  }, 'validated data, each field with its source (no CRM has a gender: V8 knows it)')
  // The sandbox's consult moves on with time; a busy machine may read it at WAITING_CREDIT_ANALYSIS, which already
  // carries the margin and is simulated (as the older system did).
  t.ok(['SUCCESS', 'WAITING_CREDIT_ANALYSIS'].includes(r.termo_resultado.status), `consult approved (${r.termo_resultado.status})`)
  t.equal(r.termo_resultado.marginBaseValue, p!.margin, "margin from V8's detail")
  t.equal(r.termo_resultado.availableMarginValue, p!.margin, 'and reported where callers of the older system read it')
  t.match(r.termo_resultado.simulationLimit, { installmentsMax: 24 }, 'the limits')
  t.equal(r.status_termo, r.termo_resultado.status, 'status_termo')
  t.equal(r.motivo_falha, null, 'no failure reason')
  t.equal(r.simulacao_resultado.numero_parcelas, 24, '24 installments')
  t.equal(r.simulacao_resultado.valor_parcela, Number(p!.margin), 'installment = margin')
  t.ok(r.simulacao_resultado.valor_liberado > 0, 'valor liberado')
  t.equal(r.simulacao_resultado.consult_id, r.termo_resultado.id, 'simulation of this consult')
  t.match(r.simulacao_resultado, { tabela: 'clt-acelera', tabela_com_seguro: false }, 'the table used: without insurance (the default)')

  const stats = await c.sb.stats()
  t.equal(stats.consults_by_cpf[p!.cpf], 1, 'one consult')
  t.equal(stats.simulations_created, 1, 'one simulation')
  t.equal(stats.routes['POST /private-consignment/simulation'], 1, 'one simulation call (24 worked; the insured table V8 lists first was not tried)')

  const opp = await c.opportunity(p!.opportunityId!)
  t.equal(opp.fkStage, 21, 'moved to KENTRO_STAGE_ID')
  t.same(opp.tags, [6, 77], 'tagged with KENTRO_TAG_ID, the tags it had kept (Kentro replaces the list)')
  t.equal(opp.value, Math.round(r.simulacao_resultado.valor_liberado * 100), 'value = valor liberado in centavos (the vendor spec)')
  t.match(opp.description, /^Lead CLT\n\[V8 CLT\] .*24x/, 'description keeps the CRM text and adds one line')
  t.equal(opp.formsdata[BIRTH_KEY], brDate(p!.data_nascimento), 'CRM data untouched')

  const cached = c.db.prepare('SELECT consult_id, dados_simulacao FROM simulation_cache WHERE cpf = ?').get(p!.cpf) as { consult_id: string; dados_simulacao: string }
  t.equal(cached?.consult_id, r.termo_resultado.id, 'saved in the simulation cache')
  t.equal(JSON.parse(cached.dados_simulacao).id_simulation, r.simulacao_resultado.id_simulation, 'the same simulation')

  const msg = await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })
  t.equal(msg.statusCode, 200, 'message 200')
  t.equal(msg.json().status, 'oferta', 'offer')
  t.match(msg.json().mensagem, new RegExp(`24x de R\\$ ${Number(p!.margin).toFixed(2).replace('.', ',')}`), 'installment in BRL')
})

t.test('ok twice: one consult, one simulation, one CRM write', async (t) => {
  const c = await cltTenant(t)
  const [p] = await c.sb.people('ok', 1)
  const a = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  const b = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(a.statusCode, 200, 'first 200')
  t.equal(b.statusCode, 200, 'second 200')
  t.equal(b.json().resultado.termo_resultado.id, a.json().resultado.termo_resultado.id, 'same consult')
  const stats = await c.sb.stats()
  t.equal(stats.consults_by_cpf[p!.cpf], 1, 'one consult for the CPF')
  t.equal(stats.simulations_created, 1, 'the stored simulation is reused')
  t.equal(stats.kentro_writes, 2, 'update + stage once')
  const other = await c.post('/clt/fluxo-completo', { cpf: p!.cpf, prazo: 12 })
  t.equal(other.json().resultado.simulacao_resultado.numero_parcelas, 12, 'a different prazo simulates again')
  t.equal((await c.sb.stats()).consults_by_cpf[p!.cpf], 1, 'still one consult')
})

t.test('every CRM phone format normalizes to the same mobile', async (t) => {
  const c = await cltTenant(t)
  const people = await c.sb.people('ok', 5)
  for (const p of people) {
    const res = await c.post('/clt/fluxo-completo', { cpf: p.cpf })
    t.equal(res.json().resultado?.dados_validados?.telefone, p.telefone, `person ${p.cpf.slice(-4)}: ${p.telefone}`)
  }
})

t.test('installment ladder on the sandbox: a consult capped at 18 gets 18x with one call', async (t) => {
  const c = await cltTenant(t)
  const people = await c.sb.people('ok', 4)
  const capped = people[3]!
  t.equal(capped.installmentsMax, 18, 'the sandbox caps this person at 18')
  const res = await c.post('/clt/fluxo-completo', { cpf: capped.cpf })
  t.equal(res.statusCode, 200, '200')
  t.equal(res.json().resultado.simulacao_resultado.numero_parcelas, 18, 'the longest term the limit allows (18), not 12')
  const stats = await c.sb.stats()
  t.equal(stats.simulations_created, 1, 'exactly one simulation created')
  t.equal(stats.routes['POST /private-consignment/simulation'], 1, "24 skipped without a call: the consult's simulationLimit says 18")
  const asked = await c.post('/clt/fluxo-completo', { cpf: capped.cpf, prazo: 18 })
  t.equal(asked.json().resultado.simulacao_resultado.numero_parcelas, 18, 'prazo 18 is honoured')
})

t.test('rejected: 200 with status_termo and motivo_falha, nothing written, calling again creates nothing', async (t) => {
  const c = await cltTenant(t)
  const [p] = await c.sb.people('rejected', 1)
  const res = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(res.statusCode, 200, '200')
  const body = res.json()
  t.equal(body.success, false, 'success false')
  t.equal(body.error, 'termo_recusado', 'code')
  t.equal(body.resultado.status_termo, 'REJECTED', 'status_termo')
  t.equal(body.resultado.motivo_falha, 'Data de nascimento nao confere', 'motivo_falha is the V8 reason')
  t.equal(body.resultado.sucesso, false, 'sucesso false')
  const again = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(again.json().error, 'termo_recusado', 'same answer')
  const stats = await c.sb.stats()
  t.equal(stats.consults_by_cpf[p!.cpf], 1, 'one consult (the CRM birth date did not change)')
  t.equal(stats.kentro_writes, 0, 'no CRM write')
  const msg = await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })
  t.equal(msg.json().status, 'recusado', 'refusal text')
  t.match(msg.json().mensagem, /data de nascimento/, 'explains the reason')
})

t.test('birth date corrected in the CRM after a rejection: one new consult', async (t) => {
  const c = await cltTenant(t)
  const [p] = await c.sb.people('ok', 1)
  const wrong = `${Number(p!.data_nascimento.slice(0, 4)) - 1}${p!.data_nascimento.slice(4)}`
  await c.editOpportunity(p!.opportunityId!, { formsdata: { [BIRTH_KEY]: brDate(wrong) } })
  const rejected = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(rejected.json().error, 'termo_recusado', 'the wrong date is rejected by V8')
  t.equal(rejected.json().resultado.dados_validados.data_nascimento, wrong, 'it was sent with the CRM date')
  await c.editOpportunity(p!.opportunityId!, { formsdata: { [BIRTH_KEY]: brDate(p!.data_nascimento) } })
  const fixed = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(fixed.statusCode, 200, '200')
  t.equal(fixed.json().success, true, 'success with the corrected date')
  t.not(fixed.json().resultado.termo_resultado.id, rejected.json().resultado.termo_resultado.id, 'a new consult')
  await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal((await c.sb.stats()).consults_by_cpf[p!.cpf], 2, 'two consults in all: no more')
})

t.test('no_opportunity: 404, no consult, text asks for the registration', async (t) => {
  const c = await cltTenant(t)
  const [p] = await c.sb.people('no_opportunity', 1)
  const res = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(res.statusCode, 404, '404')
  t.equal(res.json().error, 'oportunidade_nao_encontrada', 'code')
  t.equal(res.json().success, false, 'error shape')
  t.equal((await c.sb.stats()).consults_created, 0, 'no consult')
  const msg = await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })
  t.equal(msg.json().status, 'sem_cadastro', 'text for a missing registration')
})

t.test('incomplete: 422 dados_faltantes with campos; supplied in dados_cliente → success, written back', async (t) => {
  const c = await cltTenant(t)
  const [p] = await c.sb.people('incomplete', 1)
  const res = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(res.statusCode, 422, '422')
  t.equal(res.json().error, 'dados_faltantes', 'code')
  t.same(res.json().details.campos, ['data_nascimento', 'sexo'], 'lists the birth date and the gender (V8 does not know this person either)')
  t.equal((await c.sb.stats()).consults_created, 0, 'no consult with invented data')
  const msg = await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })
  t.equal(msg.json().status, 'dados_faltantes', 'text asks for the data')
  t.match(msg.json().mensagem, /data de nascimento/, 'names it')

  const ok = await c.post('/clt/fluxo-completo', { cpf: p!.cpf, dados_cliente: { data_nascimento: brDate(p!.data_nascimento), sexo: p!.sexo } })
  t.equal(ok.statusCode, 200, `200 (${ok.body.slice(0, 200)})`)
  t.equal(ok.json().resultado.dados_validados.data_nascimento, p!.data_nascimento, 'the supplied date was used')
  t.match(ok.json().resultado.dados_validados.origem, { data_nascimento: 'requisicao', sexo: 'requisicao', nome: 'kentro' }, 'and recorded as supplied')
  const opp = await c.opportunity(p!.opportunityId!)
  t.equal(opp.formsdata[BIRTH_KEY], brDate(p!.data_nascimento), 'and written into the CRM form')
  t.type(opp.formsdata['917456f0'], 'string', 'every other form value kept (Kentro replaces formsdata; the client merged it)')
  t.notOk('sexo' in opp.formsdata, 'no gender key invented in a CRM that has none')
})

t.test('no_margin: 200 sem_margem, no simulation', async (t) => {
  const c = await cltTenant(t)
  const [p] = await c.sb.people('no_margin', 1)
  const res = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(res.statusCode, 200, '200')
  t.equal(res.json().success, false, 'success false')
  t.equal(res.json().error, 'sem_margem', 'code')
  t.equal(res.json().resultado.status_termo, 'SUCCESS', 'the consult itself was approved')
  const stats = await c.sb.stats()
  t.equal(stats.routes['POST /private-consignment/simulation'] ?? 0, 0, 'no simulation attempted with margin 0')
  t.equal(stats.kentro_writes, 0, 'no CRM write')
  const msg = await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })
  t.equal(msg.json().status, 'sem_margem', 'text')
})

t.test('slow: 202 pendente with Retry-After; calling again resumes the same consult', async (t) => {
  // V8 takes 6 s; the route waits 1 s. Bounds are far from both, so a busy machine cannot flip them.
  const c = await cltTenant(t, { config: { FLOW_WAIT_SECONDS: '1' }, sandbox: { slow_ms: 6_000 } })
  const [p] = await c.sb.people('slow', 1)
  const started = Date.now()
  const first = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  const waited = Date.now() - started
  t.equal(first.statusCode, 202, '202')
  t.ok(waited >= 900 && waited < 5_500, `waited about FLOW_WAIT_SECONDS, not for V8 (${waited} ms)`)
  t.equal(first.json().resultado.pendente, true, 'pendente')
  t.ok(Number(first.headers['retry-after']) > 0, 'Retry-After header')
  const msg = await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })
  t.equal(msg.json().status, 'em_analise', 'text says in analysis')
  let second = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  for (let i = 0; i < 20 && second.statusCode === 202; i++) second = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(second.statusCode, 200, `resumed to 200 (${second.body.slice(0, 120)})`)
  t.equal(second.json().resultado.termo_resultado.id, first.json().resultado.termo_resultado.id, 'the same consult')
  const stats = await c.sb.stats()
  t.equal(stats.consults_by_cpf[p!.cpf], 1, 'one consult')
  t.equal(stats.authorizations, 1, 'authorized once')
})

t.test('bad input: 400 for malformed fields, 422 for an invalid CPF, never 5xx', async (t) => {
  const c = await cltTenant(t)
  const cases: Array<[unknown, number, string]> = [
    [{ cpf: '123.456.789-00' }, 422, 'cpf_invalido'],
    [{ cpf: '11111111111' }, 422, 'cpf_invalido'],
    [{}, 400, 'requisicao_invalida'],
    [{ cpf: ['1'] }, 400, 'requisicao_invalida'],
    [{ cpf: '52998224725', valor: -1 }, 400, 'requisicao_invalida'],
    [{ cpf: '52998224725', valor: 'muito' }, 400, 'requisicao_invalida'],
    [{ cpf: '52998224725', prazo: 0 }, 400, 'requisicao_invalida'],
    [{ cpf: '52998224725', prazo: 12.5 }, 400, 'requisicao_invalida'],
    [{ cpf: '52998224725', dados_cliente: 'x' }, 400, 'requisicao_invalida'],
    [{ cpf: '52998224725', dados_cliente: { email: 'x'.repeat(300) } }, 400, 'requisicao_invalida'],
    [{ cpf: '52998224725', valor: 100, valor_parcela: 200 }, 400, 'requisicao_invalida'],
    [{ cpf: '52998224725', valor_parcela: 100, valor_liberado: 2000 }, 400, 'requisicao_invalida'],
  ]
  for (const [payload, status, code] of cases) {
    const res = await c.post('/clt/fluxo-completo', payload)
    t.equal(res.statusCode, status, `${JSON.stringify(payload).slice(0, 60)} → ${status}`)
    t.equal(res.json().error, code, `code ${code}`)
  }
  const msg = await c.post('/clt/mensagem-whatsapp', { cpf: '52998224725' })
  t.equal(msg.statusCode, 404, 'no result yet → 404')
  t.equal(msg.json().error, 'resultado_nao_encontrado', 'code')
  const noKey = await c.app.inject({ method: 'POST', url: '/clt/fluxo-completo', payload: { cpf: '52998224725' } })
  t.equal(noKey.statusCode, 401, 'no API key → 401')
})

t.test('numbers as text are accepted: valor_liberado "1500,50", prazo "12"', async (t) => {
  const c = await cltTenant(t)
  const [p] = await c.sb.people('ok', 1)
  const res = await c.post('/clt/fluxo-completo', { cpf: p!.cpf, valor_liberado: '1500,50', prazo: '12' })
  t.equal(res.statusCode, 200, `200 (${res.body.slice(0, 160)})`)
  const sim = res.json().resultado.simulacao_resultado
  t.equal(sim.numero_parcelas, 12, '12x')
  t.ok(Math.abs(sim.valor_liberado - 1500.5) < 0.05, `releases the asked amount (${sim.valor_liberado})`)
})

t.test('upstream failures map to 503/504 with the upstream reason', async (t) => {
  const c = await cltTenant(t, { config: { FLOW_WAIT_SECONDS: '0' } })
  const [p] = await c.sb.people('ok', 1)
  await c.sb.faults({ status: 503, routes: ['/kentro'] })
  const kentro = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(kentro.statusCode, 503, 'Kentro down → 503')
  t.match(kentro.json().message, /Kentro/, 'names the upstream')
  t.equal((await c.sb.stats()).consults_created, 0, 'nothing created')
  await c.sb.faults({ status: 503, routes: ['/private-consignment/consult'] })
  const v8 = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(v8.statusCode, 503, 'V8 down → 503')
  t.match(v8.json().message, /V8/, 'names the upstream')
  t.notMatch(v8.body, /at .*\.ts:\d+/, 'no stack')
  await c.sb.clearFaults()
  const after = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.ok([200, 202].includes(after.statusCode), `recovers (${after.statusCode})`)
  t.ok(((await c.sb.stats()).consults_by_cpf[p!.cpf] ?? 0) <= 1, 'at most one consult despite the failures')
})
