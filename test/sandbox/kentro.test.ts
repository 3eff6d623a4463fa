/** Kentro CRM in the sandbox: auth and missing-data refusals, pipelines of the population, opportunity reads and writes. */
import t from 'tap'
import { http, startSandbox } from '../fixtures/sandbox.js'

const K = '/kentro/int'
const AUTH = { queueId: 25, apiKey: 'sandbox' }

t.test('apiKey and required fields', async (t) => {
  const sb = await startSandbox(t)
  const wrong = await http(sb.url, 'POST', `${K}/getPipeOpportunities`, { json: { ...AUTH, apiKey: 'x', pipelineId: 1 } })
  t.equal(wrong.status, 401, 'wrong apiKey → 401')
  t.same(wrong.body, { message: 'Invalid apiKey' }, 'Invalid apiKey body')
  for (const [method, body] of [
    ['getPipeOpportunities', { queueId: 25, apiKey: 'sandbox' }],
    ['getPipeOpportunities', { apiKey: 'sandbox', pipelineId: 1 }],
    ['getOpportunity', { ...AUTH }],
    ['createOpportunity', { ...AUTH, fkPipeline: 1, fkStage: 1 }],
    ['updateOpportunity', { ...AUTH, title: 'x' }],
    ['changeOpportunityStage', { ...AUTH, id: 100000 }],
  ] as const) {
    const res = await http(sb.url, 'POST', `${K}/${method}`, { json: body })
    t.equal(res.status, 400, `${method} without a required field → 400`)
    t.same(res.body, { message: 'Missing required data' }, `${method}: Missing required data`)
  }
  t.equal((await http(sb.url, 'POST', `${K}/deleteEverything`, { json: AUTH })).status, 404, 'unknown method → 404')
})

t.test('pipelines hold the population (open opportunities), with the formsdata keys and gender', async (t) => {
  const sb = await startSandbox(t)
  const ok = await sb.people('ok', 10)
  const [incomplete] = await sb.people('incomplete', 1)
  const [noOpp] = await sb.people('no_opportunity', 1)
  const all = []
  for (const pipelineId of [1, 3, 4]) {
    const res = await http(sb.url, 'POST', `${K}/getPipeOpportunities`, { json: { ...AUTH, pipelineId } })
    t.equal(res.status, 200, `pipeline ${pipelineId} → 200`)
    t.ok(Array.isArray(res.body), 'a bare array')
    t.ok(res.body.every((o: { fkPipeline: number }) => o.fkPipeline === pipelineId), 'only that pipeline')
    all.push(...res.body)
  }
  const byCpf = new Map(all.map((o) => [o.mainmail, o]))
  for (const p of ok) {
    const o = byCpf.get(p.cpf)
    t.ok(o, `ok person ${p.opportunityId} is in a pipeline`)
    t.equal(o?.id, p.opportunityId, 'id = opportunityId from /people')
    t.equal(o?.fkPipeline, p.pipelineId, 'in the pipeline /people says')
  }
  const o = byCpf.get(ok[0]!.cpf)
  const [y, m, d] = ok[0]!.data_nascimento.split('-')
  const phones = ok.slice(0, 5).map((p) => byCpf.get(p.cpf)?.mainphone)
  const t1 = ok[1]!.telefone
  t.same(phones, [`55${ok[0]!.telefone}`, `+55 (${t1.slice(0, 2)}) ${t1.slice(2, 7)}-${t1.slice(7)}`, ok[2]!.telefone, `55${ok[3]!.telefone}`, `55${ok[4]!.telefone.slice(0, 2)}${ok[4]!.telefone.slice(3)}`], 'mainphone in the formats CRMs hold (normalize to telefone)')
  for (const [i, raw] of phones.entries()) {
    let digits = String(raw).replace(/\D/g, '')
    if (digits.startsWith('55') && digits.length > 11) digits = digits.slice(2)
    if (digits.length === 10) digits = `${digits.slice(0, 2)}9${digits.slice(2)}`
    t.equal(digits, ok[i]!.telefone, `mainphone #${i} normalizes to /people telefone`)
  }
  t.match(o, { title: ok[0]!.nome, status: 0, tags: [], formsdata: { '9e7f92b0': ok[0]!.email, '0bfc6250': `${d}/${m}/${y}`, '98167d80': ok[0]!.telefone, sexo: ok[0]!.sexo } }, 'opportunity fields')
  for (const key of ['917456f0', '1836e090', '1dbfcef0', '6ac31450', '3271f710', '25178280', 'f6384400']) t.type(o.formsdata[key], 'string', `formsdata ${key}`)
  t.notOk('0bfc6250' in byCpf.get(incomplete!.cpf).formsdata, 'incomplete person lacks the birth date')
  t.notOk(byCpf.has(noOpp!.cpf), 'no_opportunity person is in no pipeline')
  t.equal((await http(sb.url, 'POST', `${K}/getPipeOpportunities`, { json: { ...AUTH, pipelineId: 2 } })).body.length, 0, 'pipeline 2 is empty')
  const far = await sb.people('ok', 120)
  const p119 = far[119]!
  const listed = await http(sb.url, 'POST', `${K}/getPipeOpportunities`, { json: { ...AUTH, pipelineId: p119.pipelineId } })
  t.ok(listed.body.some((x: { mainmail: string }) => x.mainmail === p119.cpf), 'people listed by /people are findable in the pipelines')
})

t.test('get, create, update, change stage (JSON and form bodies)', async (t) => {
  const sb = await startSandbox(t)
  const [p] = await sb.people('ok', 1)
  const got = await http(sb.url, 'POST', `${K}/getOpportunity`, { json: { ...AUTH, id: p!.opportunityId } })
  t.equal(got.status, 200, 'getOpportunity → 200')
  t.equal(got.body.mainmail, p!.cpf, 'mainmail holds the CPF')
  const formGot = await http(sb.url, 'POST', `${K}/getOpportunity`, { form: { queueId: '25', apiKey: 'sandbox', id: String(p!.opportunityId) } })
  t.equal(formGot.body.id, p!.opportunityId, 'form-encoded body works too')
  t.same((await http(sb.url, 'POST', `${K}/getOpportunity`, { json: { ...AUTH, id: 42 } })).body, { message: 'Opportunity not found' }, 'unknown id')

  const created = await http(sb.url, 'POST', `${K}/createOpportunity`, {
    json: { ...AUTH, fkPipeline: 3, fkStage: 5, title: 'NOVO CLIENTE', mainphone: '5511988887777', mainmail: '52998224725', value: 0, description: 'x', formsdata: { sexo: 'F' }, tags: [7] },
  })
  t.equal(created.status, 200, 'create → 200')
  t.type(created.body.id, 'number', 'returns {id}')
  const fresh = (await http(sb.url, 'POST', `${K}/getOpportunity`, { json: { ...AUTH, id: created.body.id } })).body
  t.match(fresh, { title: 'NOVO CLIENTE', fkPipeline: 3, fkStage: 5, tags: [7], formsdata: { sexo: 'F' } }, 'created opportunity reads back')
  const pipe3 = await http(sb.url, 'POST', `${K}/getPipeOpportunities`, { json: { ...AUTH, pipelineId: 3 } })
  t.ok(pipe3.body.some((o: { id: number }) => o.id === created.body.id), 'listed in its pipeline')

  const upd = await http(sb.url, 'POST', `${K}/updateOpportunity`, { json: { ...AUTH, id: p!.opportunityId, fkStage: 99, value: 1500, formsdata: { '9e7f92b0': 'novo@x.com' }, tags: [3] } })
  t.same(upd.body, { success: true }, 'update → {success:true}')
  const stage = await http(sb.url, 'POST', `${K}/changeOpportunityStage`, { json: { ...AUTH, id: p!.opportunityId, destStageId: 21 } })
  t.same(stage.body, { success: true }, 'change stage → {success:true}')
  const after = (await http(sb.url, 'POST', `${K}/getOpportunity`, { json: { ...AUTH, id: p!.opportunityId } })).body
  t.equal(after.fkStage, 21, 'stage moved by changeOpportunityStage, not by update')
  t.equal(after.value, 1500, 'value updated')
  t.same(after.tags, [3], 'tags replaced')
  t.equal(after.formsdata['9e7f92b0'], 'novo@x.com', 'formsdata key updated')
  t.equal(after.formsdata['0bfc6250'], got.body.formsdata['0bfc6250'], 'other formsdata keys kept')
  t.equal((await http(sb.url, 'POST', `${K}/updateOpportunity`, { json: { ...AUTH, id: 42, value: 1 } })).status, 404, 'update unknown → 404')
  t.equal((await sb.stats()).kentro_writes, 3, 'three writes counted')
  await sb.reset()
  const restored = (await http(sb.url, 'POST', `${K}/getOpportunity`, { json: { ...AUTH, id: p!.opportunityId } })).body
  t.equal(restored.fkStage, got.body.fkStage, 'reset forgets CRM edits')
})
