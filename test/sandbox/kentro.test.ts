/** Kentro CRM in the sandbox: auth and missing-data refusals, pipelines of the population shaped like the public samples, reads and writes. */
import t from 'tap'
import { http, startSandbox, type SandboxPerson } from '../fixtures/sandbox.js'

const K = '/kentro/int'
const AUTH = { queueId: 25, apiKey: 'sandbox' }

t.test('apiKey and required fields', async (t) => {
  const sb = await startSandbox(t)
  const wrong = await http(sb.url, 'POST', `${K}/getPipeOpportunities`, { json: { ...AUTH, apiKey: 'x', pipelineId: 1 } })
  t.equal(wrong.status, 401, 'wrong apiKey → 401')
  t.match(wrong.body, { message: /^AUTH_018/ }, 'the vendor code AUTH_018')
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

/** The opportunity of a person in a listing, wherever the CRM keeps its CPF. */
function holding (list: Array<Record<string, any>>, p: SandboxPerson): Record<string, any> | undefined {
  return list.find((o) => o.id === p.opportunityId)
}

t.test('pipelines hold the population (open opportunities) shaped like the public samples', async (t) => {
  const sb = await startSandbox(t)
  const ok = await sb.people('ok', 12)
  const [incomplete] = await sb.people('incomplete', 1)
  const [noOpp] = await sb.people('no_opportunity', 1)
  const all: Array<Record<string, any>> = []
  for (const pipelineId of [1, 3, 4]) {
    const res = await http(sb.url, 'POST', `${K}/getPipeOpportunities`, { json: { ...AUTH, pipelineId } })
    t.equal(res.status, 200, `pipeline ${pipelineId} → 200`)
    t.ok(Array.isArray(res.body), 'a bare array')
    t.ok(res.body.every((o: { fkPipeline: number }) => o.fkPipeline === pipelineId), 'only that pipeline')
    all.push(...res.body)
  }
  for (const p of ok) {
    const o = holding(all, p)
    t.ok(o, `ok person ${p.opportunityId} is in a pipeline`)
    t.equal(o?.fkPipeline, p.pipelineId, 'in the pipeline /people says')
    t.notOk(Object.values(o?.formsdata ?? {}).includes(p.sexo) || 'sexo' in (o?.formsdata ?? {}), 'no gender anywhere in the form')
  }
  const [p0, p1, p2, p3, p4, p5] = ok as [SandboxPerson, SandboxPerson, SandboxPerson, SandboxPerson, SandboxPerson, SandboxPerson]
  const c1 = p1.cpf
  t.same(
    [p0, p1, p2, p3, p4].map((p) => holding(all, p)?.mainmail),
    [p0.cpf, `${c1.slice(0, 3)}.${c1.slice(3, 6)}.${c1.slice(6, 9)}-${c1.slice(9)}`, p2.cpf, '', p4.cpf.replace(/^0+/, '')],
    'mainmail: digits, formatted, digits, empty, digits without leading zeros'
  )
  t.equal(holding(all, p3)?.formsdata['98011220'], p3.cpf, 'an empty mainmail: the CPF is in the form field 98011220')
  t.same([p0, p1, p2].map((p) => holding(all, p)?.tags), [[6], '2,6', ['6']], 'tags: int[], "2,6", ["6"]')
  t.same([p0, p4, p5].map((p) => holding(all, p)?.title), [p0.nome, p4.cpf, `Cliente ${p5.cpf}`], 'titles: the name, a CPF, "Cliente <cpf>"')
  t.same([p0, p1, p2].map((p) => holding(all, p)?.formsdata['9e7f92b0']), [p0.email, undefined, 'null'], 'e-mail: present, absent, "null"')
  const [y, m, d] = p1.data_nascimento.split('-')
  t.match(holding(all, p1)?.formsdata['0bfc6250'], new RegExp(`^${d}/${m}/${y}\\s+\\d+ anos$`), 'birth date with "NN anos", as the export shows')
  const phones = ok.slice(0, 5).map((p) => holding(all, p)?.mainphone)
  for (const [i, raw] of phones.entries()) {
    let digits = String(raw).replace(/\D/g, '')
    if (digits.startsWith('55') && digits.length > 11) digits = digits.slice(2)
    if (digits.length === 10) digits = `${digits.slice(0, 2)}9${digits.slice(2)}`
    t.equal(digits, ok[i]!.telefone, `mainphone #${i} normalizes to /people telefone`)
  }
  const withClone = (await sb.people('ok', 10))[9]!
  const clone = all.find((o) => o.id === withClone.cloneId)
  t.ok(clone && Date.parse(clone.createdAt) < Date.parse(holding(all, withClone)!.createdAt), 'every 10th ok person also has an older clone')
  t.equal(clone?.mainmail, holding(all, withClone)?.mainmail, 'holding the same CPF')
  t.notOk('0bfc6250' in holding(all, incomplete!)!.formsdata, 'incomplete person lacks the birth date')
  t.notOk(all.some((o) => o.mainmail === noOpp!.cpf), 'no_opportunity person is in no pipeline')
  t.equal((await http(sb.url, 'POST', `${K}/getPipeOpportunities`, { json: { ...AUTH, pipelineId: 2 } })).body.length, 0, 'pipeline 2 is empty')
  const far = await sb.people('ok', 120)
  const p119 = far[119]!
  const listed = await http(sb.url, 'POST', `${K}/getPipeOpportunities`, { json: { ...AUTH, pipelineId: p119.pipelineId } })
  t.ok(listed.body.some((x: { id: number }) => x.id === p119.opportunityId), 'people listed by /people are findable in the pipelines')
})

t.test('get, create, update, change stage (JSON and form bodies)', async (t) => {
  const sb = await startSandbox(t)
  const [p] = await sb.people('ok', 1)
  const got = await http(sb.url, 'POST', `${K}/getOpportunity`, { json: { ...AUTH, id: p!.opportunityId } })
  t.equal(got.status, 200, 'getOpportunity → 200')
  t.equal(got.body.mainmail, p!.cpf, 'mainmail holds the CPF (person #0)')
  const formGot = await http(sb.url, 'POST', `${K}/getOpportunity`, { form: { queueId: '25', apiKey: 'sandbox', id: String(p!.opportunityId) } })
  t.equal(formGot.body.id, p!.opportunityId, 'form-encoded body works too')
  t.same((await http(sb.url, 'POST', `${K}/getOpportunity`, { json: { ...AUTH, id: 42 } })).body, { message: 'OPP_002 - Opportunity not found' }, 'unknown id → OPP_002')

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
  t.same(upd.body, { id: p!.opportunityId }, 'update → {id}')
  const stage = await http(sb.url, 'POST', `${K}/changeOpportunityStage`, { json: { ...AUTH, id: p!.opportunityId, destStageId: 21 } })
  t.equal(stage.status, 200, 'change stage → 200')
  t.ok(stage.body === null || stage.body.id === p!.opportunityId, 'with {id} or an empty body')
  const after = (await http(sb.url, 'POST', `${K}/getOpportunity`, { json: { ...AUTH, id: p!.opportunityId } })).body
  t.equal(after.fkStage, 21, 'stage moved by changeOpportunityStage, not by update')
  t.equal(after.value, 1500, 'value updated')
  t.same(after.tags, [3], 'tags replaced')
  t.equal(after.formsdata['9e7f92b0'], 'novo@x.com', 'formsdata key updated')
  t.notOk('0bfc6250' in after.formsdata, 'formsdata replaced wholesale: writers must read, merge, write')
  t.equal((await http(sb.url, 'POST', `${K}/updateOpportunity`, { json: { ...AUTH, id: 42, value: 1 } })).status, 404, 'update unknown → 404')
  t.equal((await sb.stats()).kentro_writes, 3, 'three writes counted')
  await sb.reset()
  const restored = (await http(sb.url, 'POST', `${K}/getOpportunity`, { json: { ...AUTH, id: p!.opportunityId } })).body
  t.equal(restored.fkStage, got.body.fkStage, 'reset forgets CRM edits')
})
