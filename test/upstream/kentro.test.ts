import t from 'tap'
import { cpfInMainmail } from '../../src/upstream/kentro.js'
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
  t.match(mine, { title: p!.nome, mainmail: p!.cpf, fkPipeline: p!.pipelineId, tags: [] }, 'fields parsed')
  const one = await services.kentro.getOpportunity(String(p!.opportunityId))
  t.equal(one.formsdata['9e7f92b0'], p!.email, 'formsdata kept (e-mail key)')
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
  t.equal(cpfInMainmail('1234567890'), '01234567890', 'a numeric mainmail that lost its leading zero')
  t.equal(cpfInMainmail('fulano@x.com'), '', 'an e-mail is not a CPF')
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
})

t.test('errors: bad key, unknown id, missing data, not configured', async (t) => {
  const sb = await startSandbox(t)
  const { services } = servicesFor(t, sb)
  await t.rejects(services.kentro.getOpportunity('1'), { code: 'kentro_not_found', statusCode: 404, message: /Opportunity not found/ }, 'unknown id → 404')
  await t.rejects(services.kentro.createOpportunity({ fkPipeline: 1 }), { code: 'upstream_rejected', statusCode: 422, message: /Missing required data/ }, "Kentro's own text")
  const { services: badKey } = servicesFor(t, sb, { config: { KENTRO_API_KEY: 'wrong-key-987' } })
  const err = await badKey.kentro.getPipeOpportunities(1).catch((e: unknown) => e)
  t.match(err, { code: 'kentro_credentials_rejected', statusCode: 502, message: /Invalid apiKey/ }, 'bad key')
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
