/**
 * Issue 11's "Done when", over a real socket (listen on port 0 + undici, never inject) against the sandbox's
 * real-shaped answers: old-style {cpf} calls reach a simulation, a second call creates no second consult, a rejected
 * consult gives V8's reason, /v8/operacoes lists rows with name and CPF, list and Kentro-pipeline batches complete.
 */
import t from 'tap'
import { pino } from 'pino'
import { ConfigStore } from '../../src/config/store.js'
import { openDatabase } from '../../src/db/database.js'
import { createTenant } from '../../src/tenant.js'
import { E2E_ENGINE } from '../fixtures/batches-sandbox.js'
import { waitFor } from '../fixtures/batches.js'
import { TEST_API_KEY, testConfig } from '../fixtures/config.js'
import { http, startSandbox, type HttpAnswer, type RunningSandbox, type Scenario } from '../fixtures/sandbox.js'

interface Live {
  sb: RunningSandbox
  call(method: 'GET' | 'POST', path: string, json?: unknown, signal?: AbortSignal): Promise<HttpAnswer>
}

/** A tenant listening on 127.0.0.1:<ephemeral>, pointed at its own sandbox (few people per pipeline: quick batches). */
async function live (t: { teardown(fn: () => unknown): void }, config: Record<string, string> = {}): Promise<Live> {
  const sb = await startSandbox(t, { kentroPeoplePerScenario: 4 })
  await sb.configure({ consult_delay_ms: 150, slow_ms: 1_500 })
  const store = new ConfigStore(testConfig(6999, { ...sb.tenantConfig(), V8_MAX_RPS: '1000', FLOW_WAIT_SECONDS: '3', KENTRO_TAG_ID: '77', BATCH_CONCURRENCY: '4', ...config }))
  const tenant = await createTenant({ config: store, db: openDatabase(':memory:'), logger: pino({ level: 'silent' }), upstreamTimeoutMs: 3000, batch: { engine: E2E_ENGINE } })
  t.teardown(tenant.close)
  await tenant.app.listen({ port: 0, host: '127.0.0.1' })
  const address = tenant.app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const base = `http://127.0.0.1:${address.port}`
  return { sb, call: (method, path, json, signal) => http(base, method, path, { token: TEST_API_KEY, ...(json !== undefined ? { json } : {}), ...(signal ? { signal } : {}) }) }
}

async function finished (c: Live, id: string): Promise<any> {
  return waitFor('batch end', async () => {
    const b = (await c.call('GET', `/clt/lotes/${id}?limit=1000`)).body
    return b.finished_at !== null ? b : undefined
  }, 60_000, 100)
}

t.test('old-style {cpf} calls reach a simulation for CRM records shaped like the public samples; a second call creates nothing', async (t) => {
  const c = await live(t)
  // Twelve people cover every CRM variant: titles that are a CPF or "Cliente <cpf>", the CPF in mainmail as digits,
  // formatted, without leading zeros or only in the form, tags as int[] / "2,6" / ["6"], missing or "null" e-mails.
  const people = await c.sb.people('ok', 12)
  const sources = new Set<string>()
  for (const p of people) {
    const res = await c.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })
    t.equal(res.status, 200, `person #${people.indexOf(p)} → 200 (${JSON.stringify(res.body).slice(0, 160)})`)
    t.match(res.body.resultado, { sucesso: true, simulacao_resultado: { numero_parcelas: Number, tabela: 'clt-acelera' } }, 'a simulation on the table without insurance')
    t.equal(res.body.resultado.dados_validados.nome.toUpperCase(), p.nome, 'the real name, from the CRM or V8')
    for (const [field, source] of Object.entries(res.body.resultado.dados_validados.origem)) sources.add(`${field}=${source}`)
  }
  t.ok(sources.has('nome=v8') && sources.has('nome=kentro') && sources.has('email=v8') && sources.has('sexo=v8'), `sources recorded per field (${[...sources].sort().join(', ')})`)
  const before = await c.sb.stats()
  for (const p of people) {
    const again = await c.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })
    t.equal(again.status, 200, 'again 200')
  }
  const after = await c.sb.stats()
  t.ok(people.every((p) => after.consults_by_cpf[p.cpf] === 1), 'one consult per CPF, after two calls each')
  t.equal(after.consults_created, before.consults_created, 'the second round created no consult')
  t.equal(after.simulations_created, before.simulations_created, 'nor a simulation (the stored one is reused)')

  const noGender = (await c.sb.people('no_gender', 1))[0]!
  const missing = await c.call('POST', '/clt/fluxo-completo', { cpf: noGender.cpf })
  t.match(missing, { status: 422, body: { error: 'dados_faltantes', details: { campos: ['sexo'] } } }, 'nobody knows the gender and the tenant declares none: 422 listing sexo')
})

t.test('a tenant that declares DEFAULT_GENDER gets the consult, recorded as padrao_tenant', async (t) => {
  const c = await live(t, { DEFAULT_GENDER: 'F' })
  const [p] = await c.sb.people('no_gender', 1)
  const res = await c.call('POST', '/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(res.status, 200, `200 (${JSON.stringify(res.body).slice(0, 160)})`)
  t.equal(res.body.resultado.dados_validados.origem.sexo, 'padrao_tenant', 'the declared default, named as such')
})

t.test("a rejected consult gives V8's reason; /v8/operacoes lists rows with name and CPF", async (t) => {
  const c = await live(t)
  const [p] = await c.sb.people('rejected', 1)
  const res = await c.call('POST', '/clt/fluxo-completo', { cpf: p!.cpf })
  t.match(res, { status: 200, body: { success: false, error: 'termo_recusado', resultado: { status_termo: 'REJECTED', motivo_falha: 'Data de nascimento nao confere' } } }, "V8's reason")
  const ops = await c.call('GET', '/v8/operacoes')
  t.equal(ops.status, 200, '/v8/operacoes → 200 (it answered 502 on the real rows before)')
  t.ok(ops.body.operacoes.length > 0, `${ops.body.operacoes.length} operations`)
  t.ok(ops.body.operacoes.every((o: { nome: string; cpf: string; operationId: string }) => o.nome && /^\d{11}$/.test(o.cpf) && o.operationId), 'every row with name, CPF and operationId')
})

t.test('a 10-CPF list batch and a Kentro-pipeline batch complete over a real socket', async (t) => {
  const c = await live(t)
  const ten = await c.sb.people('ok', 10)
  const list = await c.call('POST', '/clt/lotes', { cpfs: ten.map((p) => p.cpf) })
  t.equal(list.status, 202, '202')
  const doneList = await finished(c, list.body.lote_id)
  t.match(doneList, { status: 'COMPLETED', total: 10, sucessos: 10, erros: 0 }, 'the list batch completed, every CPF simulated')

  // Who is in pipeline 4 (the sandbox lists 4 people per scenario, and every person /people has shown), and how each ends.
  const expected = new Map<string, string>()
  const outcome: Array<[Scenario, number, string]> = [
    ['ok', 10, 'SUCCESS'], ['slow', 4, 'SUCCESS'], ['rejected', 4, 'termo_recusado'], ['no_margin', 4, 'sem_margem'], ['incomplete', 4, 'dados_faltantes'], ['no_gender', 4, 'dados_faltantes'],
    ['no_links', 4, 'SUCCESS'],
  ]
  for (const [scenario, listed, end] of outcome) {
    for (const p of await c.sb.people(scenario, listed)) if (p.pipelineId === 4) expected.set(p.cpf, end)
  }
  const pipe = await c.call('POST', '/clt/lotes', { origem: 'kentro', pipeline_id: 4 })
  t.equal(pipe.status, 202, `202 over a real socket (${JSON.stringify(pipe.body).slice(0, 160)})`)
  t.equal(pipe.body.total, expected.size, `one item per CPF of the pipeline (${expected.size}; clones counted once)`)
  const done = await finished(c, pipe.body.lote_id)
  t.equal(done.status, 'COMPLETED', 'the Kentro-pipeline batch completed')
  const wrong = done.itens.filter((i: { cpf: string; status: string; erro?: string }) => (i.status === 'SUCCESS' ? 'SUCCESS' : i.erro) !== expected.get(i.cpf))
  t.same(wrong, [], 'every item ended as its scenario says')
})

t.test('a caller that hangs up while the pipeline is listed stops the listing; no batch is created', async (t) => {
  const c = await live(t)
  await c.sb.faults({ latency_ms: 1_500, routes: ['/kentro/int/getPipeOpportunities'] })
  const abort = new AbortController()
  const pending = c.call('POST', '/clt/lotes', { origem: 'kentro', pipeline_id: 4 }, abort.signal).catch((e: unknown) => e)
  await waitFor('the listing to start', async () => ((await c.sb.stats()).routes['POST /kentro/int/getPipeOpportunities'] ?? 0) > 0, 5_000, 20)
  abort.abort()
  t.match(await pending, { name: 'AbortError' }, 'the caller went away')
  // The same request again, not abandoned: its listing starts later and takes as long, so had the first one gone on,
  // its batch would exist by the time this one answers.
  const second = await c.call('POST', '/clt/lotes', { origem: 'kentro', pipeline_id: 4 })
  t.equal(second.status, 202, 'a caller that waits gets its batch')
  const lotes = (await c.call('GET', '/clt/lotes')).body
  t.same(lotes.lotes.map((l: { lote_id: string }) => l.lote_id), [second.body.lote_id], 'only that one: nothing was created for the caller that left')
})
