/** Batches end to end with the real CLT flow against the sandbox: every scenario, faults, throughput vs ideal. */
import t from 'tap'
import type { Scenario } from '../fixtures/sandbox.js'
import { batchTenant, type BatchTenant } from '../fixtures/batches-sandbox.js'
import { waitFor } from '../fixtures/batches.js'

const EXPECTED: Record<Scenario, { status: 'SUCCESS' | 'FAILED'; erro?: string; consult: boolean }> = {
  ok: { status: 'SUCCESS', consult: true },
  slow: { status: 'SUCCESS', consult: true },
  rejected: { status: 'FAILED', erro: 'termo_recusado', consult: true },
  no_margin: { status: 'FAILED', erro: 'sem_margem', consult: true },
  no_opportunity: { status: 'FAILED', erro: 'oportunidade_nao_encontrada', consult: false },
  incomplete: { status: 'FAILED', erro: 'dados_faltantes', consult: false },
  // Neither the CRM nor V8 knows the gender and this tenant declares no DEFAULT_GENDER: listed, nothing invented.
  no_gender: { status: 'FAILED', erro: 'dados_faltantes', consult: false },
  // Only PresençaBank lists no link for them; V8 and the CRM know them like `ok`.
  no_links: { status: 'SUCCESS', consult: true },
}

async function finish (c: BatchTenant, id: string, timeoutMs: number): Promise<any> {
  return waitFor('batch end', async () => {
    const b = await c.batch(id)
    return b.finished_at !== null ? b : undefined
  }, timeoutMs, 100)
}

t.test('50 CPFs of every scenario, mixed: counts match the scenarios, one consult per CPF', async (t) => {
  const c = await batchTenant(t)
  const scenarios = Object.keys(EXPECTED) as Scenario[]
  const byCpf = new Map<string, Scenario>()
  for (const s of scenarios) for (const p of await c.sb.people(s, 50)) byCpf.set(p.cpf, s)
  const total = scenarios.length * 50
  const succeeding = scenarios.filter((s) => EXPECTED[s].status === 'SUCCESS').length * 50
  // Interleaved, so every stretch of the batch mixes scenarios.
  const cpfs = [...byCpf.keys()].sort((a, b) => a.slice(5).localeCompare(b.slice(5)))
  const t0 = Date.now()
  const id = await c.createBatch({ cpfs })
  const final = await finish(c, id, 60_000)
  const wall = Date.now() - t0
  t.equal(final.status, 'COMPLETED', 'COMPLETED')
  t.equal(final.total, total, `${total} items`)
  t.equal(final.sucessos, succeeding, 'ok, slow and no_links succeed')
  t.equal(final.erros, total - succeeding, 'the five refusal scenarios fail')
  t.equal(final.processados, total, 'all processed')
  const items = await c.items(id)
  const wrong = items.filter((i) => {
    const e = EXPECTED[byCpf.get(i.cpf)!]
    return i.status !== e.status || (e.erro !== undefined && i.erro !== e.erro)
  })
  t.same(wrong.map((i) => `${byCpf.get(i.cpf)}:${i.status}:${i.erro}`), [], 'every item has its scenario outcome')
  const stats = await c.sb.stats()
  const consultsWrong = [...byCpf].filter(([cpf, s]) => (stats.consults_by_cpf[cpf] ?? 0) !== (EXPECTED[s].consult ? 1 : 0))
  t.same(consultsWrong, [], 'exactly one consult per CPF that needs one, none for the others')
  t.equal(stats.consults_created, scenarios.filter((s) => EXPECTED[s].consult).length * 50, 'one consult per CPF that needs one, in total')
  t.comment(`${total} mixed CPFs in ${(wall / 1000).toFixed(1)} s at concurrency 8 (slow consults take 1.5 s)`)
})

t.test('injected 503s, 429s and latency slow the batch but fail nothing that would succeed', async (t) => {
  const c = await batchTenant(t)
  const people = [...(await c.sb.people('ok', 40)), ...(await c.sb.people('rejected', 10))]
  // The first matching rule applies: consult creation loses 30 % of its answers after acting (ambiguous),
  // Kentro answers 429 to 15 %, everything else 503 to 15 %; every call is 20 ms slower.
  await c.sb.faults([
    { status: 503, error_rate: 0.3, phase: 'after', routes: ['/private-consignment/consult'], methods: ['POST'], latency_ms: 20 },
    { status: 429, error_rate: 0.15, retry_after_s: 1, routes: ['/kentro'], latency_ms: 20 },
    { status: 503, error_rate: 0.15, latency_ms: 20 },
  ])
  const id = await c.createBatch({ cpfs: people.map((p) => p.cpf) })
  const final = await finish(c, id, 120_000)
  const stats = await c.sb.stats()
  t.ok(stats.faults_injected > 10, `faults were injected (${stats.faults_injected})`)
  t.equal(final.sucessos, 40, 'every ok CPF succeeded despite the faults')
  t.equal(final.erros, 10, 'the rejected ones still fail as rejected')
  const items = await c.items(id)
  t.ok(items.filter((i) => i.status === 'FAILED').every((i) => i.erro === 'termo_recusado'), 'no failure caused by a fault')
  t.ok(items.some((i) => i.tentativas > 1), 'some items were retried')
  const dup = people.filter((p) => stats.consults_by_cpf[p.cpf] !== 1).map((p) => p.cpf)
  t.same(dup, [], 'still one consult per CPF (ambiguous consult failures resumed, not repeated)')
})
