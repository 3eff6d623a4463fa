import t from 'tap'
import { cpfCandidates } from '../../src/upstream/kentro.js'
import { startSandbox } from '../fixtures/sandbox.js'
import { servicesFor } from '../fixtures/upstream.js'

const route = (m: string): string => `POST /kentro/int/${m}`

t.test('reads: pipeline opportunities, one opportunity, find by CPF in the configured pipelines', async (t) => {
  const sb = await startSandbox(t)
  const { services, store } = servicesFor(t, sb)
  const [p] = await sb.people('ok', 1)
  const list = await services.kentro.getPipeOpportunities(p!.pipelineId)
  const mine = list.find((o) => o.id === String(p!.opportunityId))
  t.ok(mine, 'the person is in its pipeline')
  t.match(mine, { title: p!.nome, mainmail: p!.cpf, fkPipeline: p!.pipelineId, tags: [6] }, 'fields parsed')
  const one = await services.kentro.getOpportunity(String(p!.opportunityId))
  t.equal(one.formsdata['9e7f92b0'], p!.email, 'formsdata kept (e-mail key)')
  const twelve = await sb.people('ok', 12)
  for (const q of twelve) {
    t.equal((await services.kentro.findOpportunityByCpf(q.cpf))?.id, String(q.opportunityId), `person #${twelve.indexOf(q)} found (mainmail variant ${twelve.indexOf(q) % 5})`)
  }
  t.same(
    (await Promise.all(twelve.slice(0, 3).map((q) => services.kentro.getOpportunity(String(q.opportunityId))))).map((o) => o.tags),
    [[6], [2, 6], [6]],
    'tags as int[], "2,6" and ["6"] all read as numbers'
  )
  const cloned = twelve[9]!
  t.equal((await services.kentro.findOpportunityByCpf(cloned.cpf))?.id, String(cloned.opportunityId), 'a CPF with an older clone: the newest opportunity')
  t.equal((await services.kentro.findOpportunityByCpf(p!.cpf))?.id, String(p!.opportunityId), 'found by CPF')
  const [none] = await sb.people('no_opportunity', 1)
  t.equal(await services.kentro.findOpportunityByCpf(none!.cpf), undefined, 'a CPF without opportunity → undefined')
  const others = [1, 3, 4].filter((id) => id !== p!.pipelineId)
  store.update({ KENTRO_PIPELINE_IDS: others.join(',') })
  t.equal(await services.kentro.findOpportunityByCpf(p!.cpf), undefined, 'only KENTRO_PIPELINE_IDS are searched (read at call time)')
})

t.test('find by CPF tolerates formatting in mainmail', async (t) => {
  const sb = await startSandbox(t)
  const { services } = servicesFor(t, sb)
  const [p] = await sb.people('ok', 1)
  const c = p!.cpf
  await services.kentro.updateOpportunity(String(p!.opportunityId), { mainmail: ` ${c.slice(0, 3)}.${c.slice(3, 6)}.${c.slice(6, 9)}-${c.slice(9)} ` })
  t.equal((await services.kentro.findOpportunityByCpf(c))?.id, String(p!.opportunityId), 'formatted mainmail matched')
  const o = (mainmail: string, title = '', formsdata: Record<string, unknown> = {}) => ({ mainmail, title, formsdata })
  t.same(cpfCandidates(o('1234567890')), ['01234567890'], 'a numeric mainmail that lost its leading zero')
  t.same(cpfCandidates(o('234567890')), ['00234567890'], 'or two')
  t.same(cpfCandidates(o('fulano@x.com')), [], 'an e-mail is not a CPF')
  t.same(cpfCandidates(o('', '', { 98011220: '52998224725' })), ['52998224725'], 'the form CPF field when mainmail is empty')
  t.same(cpfCandidates(o('', '', { 98011220: 'null' })), [], '"null" is empty')
  t.same(cpfCandidates(o('', 'Cliente 529.982.247-25')), ['52998224725'], 'a "Cliente <cpf>" title')
  t.same(cpfCandidates(o('', 'Oportunidade CPF 52998224725')), ['52998224725'], 'an "Oportunidade CPF <cpf>" title')
  t.same(cpfCandidates(o('', '5511976543210')), [], 'a phone title is not a CPF')
  t.same(cpfCandidates(o('52998224725', '', { 98011220: '11144477735' })), ['52998224725', '11144477735'], 'both, mainmail first')
})

t.test('writes: create, update, change stage — each sent once', async (t) => {
  const sb = await startSandbox(t)
  const { services } = servicesFor(t, sb)
  const id = await services.kentro.createOpportunity({ fkPipeline: 1, fkStage: 5, title: 'Novo', mainmail: '52998224725', mainphone: '5511987654321', value: 0, description: 'x', formsdata: {}, tags: [] })
  t.match(id, /^\d+$/, 'new id')
  await services.kentro.updateOpportunity(id, { title: 'Atualizado', formsdata: { '1836e090': '01001000' }, tags: [21] })
  await services.kentro.changeOpportunityStage(id, 21)
  const o = await services.kentro.getOpportunity(id)
  t.match(o, { title: 'Atualizado', fkStage: 21, tags: [21], formsdata: { '1836e090': '01001000' } }, 'written')
  t.equal((await sb.stats()).kentro_writes, 3, 'three writes')
  await services.kentro.mergeIntoOpportunity(id, { fields: { value: 150050 }, formsdata: { '9e7f92b0': 'a@b.com' }, addTags: [6] })
  t.match(await services.kentro.getOpportunity(id), { value: 150050, tags: [21, 6], formsdata: { '1836e090': '01001000', '9e7f92b0': 'a@b.com' } }, 'merged: tags and form values kept although Kentro replaces them')
})

t.test('errors: bad key, unknown id, missing data, not configured', async (t) => {
  const sb = await startSandbox(t)
  const { services } = servicesFor(t, sb)
  await t.rejects(services.kentro.getOpportunity('1'), { code: 'kentro_not_found', statusCode: 404, message: /OPP_002/ }, 'unknown id → 404')
  await t.rejects(services.kentro.createOpportunity({ fkPipeline: 1 }), { code: 'upstream_rejected', statusCode: 422, message: /Missing required data/ }, "Kentro's own text")
  const { services: badKey } = servicesFor(t, sb, { config: { KENTRO_API_KEY: 'wrong-key-987' } })
  const err = await badKey.kentro.getPipeOpportunities(1).catch((e: unknown) => e)
  t.match(err, { code: 'kentro_credentials_rejected', statusCode: 502, details: { codigo_kentro: 'AUTH_018' } }, 'bad key')
  t.notOk(JSON.stringify({ m: (err as Error).message, d: (err as { details?: unknown }).details }).includes('wrong-key-987'), 'the key never shows')
  const { services: none } = servicesFor(t, sb, { config: { KENTRO_API_KEY: '' } })
  t.equal(none.kentro.configured, false, 'configured: false')
  await t.rejects(none.kentro.findOpportunityByCpf('52998224725'), { code: 'kentro_not_configured', statusCode: 503 }, 'not configured')
})

t.test('reads are retried on 503/timeouts; writes are not', async (t) => {
  const sb = await startSandbox(t)
  const { services } = servicesFor(t, sb, { upstreamTimeoutMs: 400 })
  const [p] = await sb.people('ok', 1)
  await sb.faults([
    { status: 503, routes: ['/kentro/int/getPipeOpportunities'], count: 1 },
    { mode: 'timeout', routes: ['/kentro/int/getPipeOpportunities'], count: 1 },
  ])
  t.ok((await services.kentro.getPipeOpportunities(1)).length > 0, 'read succeeded')
  t.equal((await sb.stats()).routes[route('getPipeOpportunities')], 3, '503 + timeout + success')
  await sb.faults({ status: 503, routes: ['/kentro/int/updateOpportunity'], count: 1 })
  await t.rejects(services.kentro.updateOpportunity(String(p!.opportunityId), { title: 'x' }), { code: 'upstream_unavailable', ambiguous: true }, 'write failure goes up')
  const stats = await sb.stats()
  t.equal(stats.routes[route('updateOpportunity')], 1, 'write sent once')
  t.equal(stats.kentro_writes, 0, 'nothing written')
})
