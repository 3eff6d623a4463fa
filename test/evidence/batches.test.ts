/**
 * Batches (lotes) of the real tenant against the evidence simulator: a 10-CPF list and a Kentro pipeline (with odd
 * items in its listing) complete with exact counts, one consult per CPF.
 */
import t, { type Test } from 'tap'
import { makeCpf, person } from '../fixtures/evidence-sim/population.js'
import { startEvidenceSim } from '../fixtures/evidence-sim/server.js'
import { startTenant, type LiveTenant } from '../fixtures/evidence-sim/tenant.js'
import { COMBINATIONS, type Variants } from '../fixtures/evidence-sim/variants.js'

/** Poll the batch until it is no longer PENDING/RUNNING (bounded: generous for a busy machine). */
async function finished (api: LiveTenant, id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const r = await api.call('GET', `/clt/lotes/${id}`)
    if (r.body['status'] === 'COMPLETED' || r.body['status'] === 'CANCELLED') return r.body
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`batch ${id} did not finish`)
}

async function scenario (t: Test, v: Variants): Promise<void> {
  const listed = [
    person('b-ok1'),
    person('b-ok2', { crm: 'cpf-title' }),
    person('b-ok3', { crm: 'formatted' }),
    person('b-ok4', { crm: 'anos' }),
    person('b-ok5', { crm: 'oportunidade' }),
    person('b-ok6', { pipeline: 1, stage: 1 }),
    person('b-blocked', { fate: 'BLOCKED' }),
    person('b-failed', { fate: 'FAILED' }),
    person('b-nocrm', { crm: null }),
  ]
  const pipeline = [
    person('k-ok1', { pipeline: 3, stage: 30 }),
    person('k-ok2', { pipeline: 3, stage: 30, crm: 'cpf-title' }),
    // A CPF starting with 0: mainmail lost its leading zero (the export's 10-digit rows).
    person('k-ok3', { pipeline: 3, stage: 31, crm: 'lost-zero', cpf: makeCpf(777, '0') }),
    person('k-blocked', { pipeline: 3, stage: 30, fate: 'BLOCKED' }),
    person('k-nocpf', { pipeline: 3, stage: 30, crm: 'no-cpf' }),
  ]
  const sim = await startEvidenceSim(v, (w) => w.add(...listed, ...pipeline))
  t.teardown(() => sim.close())
  const w = sim.world
  const api = await startTenant(t, sim, { DEFAULT_GENDER: 'M', BATCH_CONCURRENCY: '4' })

  t.test('a list of 10 CPFs completes with exact counts', async (t) => {
    const cpfs = [...listed.map((p) => p.cpf), '123.456.789-00']
    const created = await api.call('POST', '/clt/lotes', { cpfs })
    t.equal(created.status, 202, `created (${JSON.stringify(created.body).slice(0, 300)})`)
    const done = await finished(api, String(created.body['lote_id']))
    t.same([done['total'], done['sucessos'], done['erros']], [10, 6, 4], `6 simulated; blocked, failed, not in the CRM, invalid CPF (${JSON.stringify(done).slice(0, 300)})`)
    for (const p of listed.filter((x) => x.crm !== null)) t.equal(w.consultsOf(p.cpf).length, 1, `${p.key}: one consult`)
    t.equal(w.consultsOf(listed.find((p) => p.key === 'b-nocrm')!.cpf).length, 0, 'not in the CRM: no consult')
  })

  t.test('a Kentro pipeline batch completes with exact counts; odd items skipped and counted', async (t) => {
    const before = Number(((await api.call('GET', '/health')).body['checks'] as Record<string, unknown>)['upstream_shape_warnings'])
    const created = await api.call('POST', '/clt/lotes', { origem: 'kentro', pipeline_id: 3 })
    t.equal(created.status, 202, `created (${JSON.stringify(created.body).slice(0, 300)})`)
    const done = await finished(api, String(created.body['lote_id']))
    t.same([done['total'], done['sucessos'], done['erros']], [5, 3, 2], `3 simulated; blocked, an opportunity without CPF (${JSON.stringify(done).slice(0, 300)})`)
    for (const p of pipeline.filter((x) => x.fate === 'SUCCESS' && x.crm !== 'no-cpf')) t.equal(w.consultsOf(p.cpf).length, 1, `${p.key}: one consult`)
    const after = Number(((await api.call('GET', '/health')).body['checks'] as Record<string, unknown>)['upstream_shape_warnings'])
    if (v.oddItems) t.ok(after - before >= 3, `odd items counted (${before} → ${after})`)
  })

  t.test('a batch of a pipeline the tenant does not search by default still finds its opportunities', async (t) => {
    const other = await startTenant(t, sim, { DEFAULT_GENDER: 'M', KENTRO_PIPELINE_IDS: '4' })
    const created = await other.call('POST', '/clt/lotes', { origem: 'kentro', pipeline_id: 3 })
    t.equal(created.status, 202, `created (${JSON.stringify(created.body).slice(0, 300)})`)
    const done = await finished(other, String(created.body['lote_id']))
    const items = (await other.call('GET', `/clt/lotes/${String(created.body['lote_id'])}?limit=100`)).body['itens'] as Array<Record<string, unknown>> | undefined
    t.same([done['total'], done['sucessos'], done['erros']], [5, 3, 2], `same counts (${JSON.stringify(items?.map((i) => [i['etapa'], i['erro']]))})`)
  })
}

for (const v of COMBINATIONS) {
  t.test(`evidence simulator batches: ${v.name}`, (t) => scenario(t, v))
}
