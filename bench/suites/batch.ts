/** Bench 3 — batch throughput: N CPFs through the flow via POST /clt/lotes on a tenant process, sandbox latency L, concurrency C. */
import path from 'node:path'
import { callJson } from '../lib/net.js'
import { figure, unavailableFigure, type Figure } from '../lib/result.js'
import { sampleMemory } from '../lib/rss.js'
import { startSandboxProcess, type BenchSandbox, type SandboxStats } from '../lib/sandbox.js'
import { round, sleep } from '../lib/stats.js'
import type { Draft, Suite } from '../lib/suite.js'
import { addBenchTenant, makeRoot, startTenant } from '../lib/tenant.js'
import { routeMissing } from './http-probes.js'

export const BATCH = { items: 2000, latency_ms: 30, concurrency: 32, error_rate_503: 0.05, v8_max_rps: 1000 }
const RUN_TIMEOUT_MS = 150_000

interface BatchStatus {
  lote_id?: string
  status?: string
  total?: number
  processados?: number
  sucessos?: number
  erros?: number
  created_at?: string | null
  started_at?: string | null
  finished_at?: string | null
}

interface RunOutcome {
  label: string
  wall_ms: number
  wall_source: 'server started_at→finished_at' | 'client POST→done'
  ideal_ms: number
  ratio: number
  upstream_calls: number
  calls_per_item: number
  v8_calls: number
  v8_rps: number
  peak_rss_mb: number
  final: BatchStatus
  routes: Record<string, number>
}

const V8_ROUTE = /^(GET|POST) \/(oauth|private-consignment)\//

function routeDelta(a: SandboxStats, b: SandboxStats): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(b.routes)) if (v - (a.routes[k] ?? 0) > 0) out[k] = v - (a.routes[k] ?? 0)
  return out
}

async function runBatch(
  label: string,
  base: string,
  auth: Record<string, string>,
  cpfs: string[],
  sandbox: BenchSandbox,
  tenantPid: number,
  faults: Record<string, unknown>,
  log: (m: string) => void,
): Promise<RunOutcome> {
  await sandbox.faults(faults)
  const s0 = await sandbox.stats()
  const mem = sampleMemory(tenantPid, 250)
  const t0 = Date.now()
  const created = await callJson<{ lote_id?: string | number; error?: string }>('POST', `${base}/clt/lotes`, { body: { cpfs }, headers: auth, timeoutMs: 60_000 })
  if (created.status !== 202 && created.status !== 200) throw new Error(`POST /clt/lotes answered ${created.status}: ${JSON.stringify(created.body).slice(0, 300)}`)
  const id = created.body.lote_id
  let status: BatchStatus = {}
  let lastLog = 0
  for (;;) {
    await sleep(1000)
    const res = await callJson<BatchStatus>('GET', `${base}/clt/lotes/${id}`, { headers: auth, timeoutMs: 30_000 })
    if (res.status !== 200) throw new Error(`GET /clt/lotes/${id} answered ${res.status}`)
    status = res.body
    if (status.status === 'COMPLETED' || status.status === 'CANCELLED' || status.status === 'FAILED') break
    if (Date.now() - t0 > RUN_TIMEOUT_MS) throw new Error(`${label}: batch not done after ${RUN_TIMEOUT_MS / 1000} s (${status.processados}/${status.total})`)
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now()
      log(`${label}: ${status.processados ?? '?'}/${status.total ?? cpfs.length} after ${Math.round((Date.now() - t0) / 1000)} s`)
    }
  }
  const clientWall = Date.now() - t0
  const memory = mem.stop()
  await sandbox.clearFaults()
  const s1 = await sandbox.stats()
  const routes = routeDelta(s0, s1)
  const calls = Object.values(routes).reduce((a, n) => a + n, 0)
  const v8Calls = Object.entries(routes).filter(([k]) => V8_ROUTE.test(k)).reduce((a, [, n]) => a + n, 0)
  const started = status.started_at ? Date.parse(status.started_at) : Number.NaN
  const finished = status.finished_at ? Date.parse(status.finished_at) : Number.NaN
  const serverWall = finished - started
  const useServer = Number.isFinite(serverWall) && serverWall > 0
  const wall = useServer ? serverWall : clientWall
  const perItem = calls / cpfs.length
  const ideal = (perItem * BATCH.latency_ms * cpfs.length) / BATCH.concurrency
  return {
    label,
    wall_ms: wall,
    wall_source: useServer ? 'server started_at→finished_at' : 'client POST→done',
    ideal_ms: Math.round(ideal),
    ratio: round(wall / ideal, 3),
    upstream_calls: calls,
    calls_per_item: round(perItem, 2),
    v8_calls: v8Calls,
    v8_rps: round(v8Calls / (wall / 1000), 1),
    peak_rss_mb: round(memory.peakMb, 1),
    final: { status: status.status, total: status.total, processados: status.processados, sucessos: status.sucessos, erros: status.erros },
    routes,
  }
}

function outcomeFigures(o: RunOutcome, suffix: string, title: string): Figure[] {
  const limit = o.v8_rps > BATCH.v8_max_rps * 0.9 ? ` V8 calls ran at ${o.v8_rps}/s, at the V8_MAX_RPS=${BATCH.v8_max_rps} pacing: the limiter is the bottleneck.` : ` V8 calls ran at ${o.v8_rps}/s (V8_MAX_RPS=${BATCH.v8_max_rps}, not binding).`
  return [
    figure(`wall_over_ideal${suffix}`, `${title}: wall time ÷ ideal`, o.ratio, '×', { op: '<=', value: 1.3 },
      `${round(o.wall_ms / 1000, 1)} s (${o.wall_source}) vs ideal ${round(o.ideal_ms / 1000, 1)} s = ${o.calls_per_item} upstream calls/item × ${BATCH.latency_ms} ms × ${BATCH.items} ÷ ${BATCH.concurrency}; ${o.final.sucessos ?? '?'} ok, ${o.final.erros ?? '?'} errors.${limit}`),
    figure(`peak_rss${suffix}`, `${title}: tenant peak RSS`, o.peak_rss_mb, 'MB', { op: '<', value: 150 }, 'VmHWM of the tenant process (lifetime high-water mark, sampled every 250 ms)'),
  ]
}

function unavailable(draft: Draft, reason: string): void {
  draft.unavailable.push(`batches (${reason})`)
  for (const [suffix, title] of [['', 'clean'], ['_503', '5% 503s']] as const) {
    draft.figures.push(unavailableFigure(`wall_over_ideal${suffix}`, `${title}: wall time ÷ ideal`, '×', reason, { op: '<=', value: 1.3 }))
    draft.figures.push(unavailableFigure(`peak_rss${suffix}`, `${title}: tenant peak RSS`, 'MB', reason, { op: '<', value: 150 }))
  }
}

export const batchSuite: Suite = {
  name: 'batch',
  title: `Batch throughput: ${BATCH.items} CPFs through the flow`,
  budgetS: 400,
  async run(ctx, draft) {
    draft.params = { ...BATCH, scenario: 'ok', sandbox_consult_delay_ms: 0 }
    const root = makeRoot(ctx.scratch)
    const sandbox = await startSandboxProcess(path.join(root, 'logs'))
    await sandbox.configure({ consult_delay_ms: 0, presenca_rpm: 1_000_000 })
    const tenant = await addBenchTenant(root, {
      sandboxUrl: sandbox.url,
      extra: { RATE_LIMIT_PER_MINUTE: '0', V8_MAX_RPS: String(BATCH.v8_max_rps), BATCH_CONCURRENCY: String(BATCH.concurrency), BATCH_MAX_ITEMS: String(BATCH.items), LOG_LEVEL: 'info' },
    })
    const child = await startTenant(root, tenant.port)
    const base = `http://127.0.0.1:${tenant.port}`

    const probe = await callJson('GET', `${base}/clt/lotes`, { headers: tenant.auth })
    if (routeMissing(probe)) return unavailable(draft, 'GET/POST /clt/lotes are not registered yet (src/http/routes/batches.ts)')

    // Two disjoint sets of people: the second run must not find the first run's consults.
    const people = await sandbox.people('ok', BATCH.items * 2)
    const clean = people.slice(0, BATCH.items).map((p) => p.cpf)
    const faulty = people.slice(BATCH.items).map((p) => p.cpf)
    if (faulty.length < BATCH.items) throw new Error(`the sandbox listed only ${people.length} ok people`)

    const runs: RunOutcome[] = []
    const a = await runBatch('clean', base, tenant.auth, clean, sandbox, child.pid, { latency_ms: BATCH.latency_ms }, ctx.log)
    runs.push(a)
    ctx.log(`clean: ${round(a.wall_ms / 1000, 1)} s vs ideal ${round(a.ideal_ms / 1000, 1)} s (${a.ratio}×), ${a.calls_per_item} calls/item, peak RSS ${a.peak_rss_mb} MB`)
    draft.figures.push(...outcomeFigures(a, '', 'clean'))
    draft.raw = { runs }
    const b = await runBatch('5% 503', base, tenant.auth, faulty, sandbox, child.pid, { latency_ms: BATCH.latency_ms, error_rate: BATCH.error_rate_503, status: 503 }, ctx.log)
    runs.push(b)
    ctx.log(`5% 503: ${round(b.wall_ms / 1000, 1)} s vs ideal ${round(b.ideal_ms / 1000, 1)} s (${b.ratio}×), ${b.calls_per_item} calls/item, peak RSS ${b.peak_rss_mb} MB`)
    draft.figures.push(...outcomeFigures(b, '_503', '5% 503s'))
    draft.notes.push('Ideal counts every upstream call the sandbox actually served (retries included) at exactly L each, C at a time; time the flow spends waiting between consult polls or in retry backoff is what the ratio exposes.')
  },
}
