/** Bench 3 — batch throughput: N CPFs through the flow via POST /clt/lotes on a tenant process, sandbox latency L, concurrency C. */
import { TENANT_NODE_ARGS } from '../../src/config/lifecycle.js'
import path from 'node:path'
import { callJson } from '../lib/net.js'
import { stopChild } from '../lib/procs.js'
import { figure, unavailableFigure, type Figure } from '../lib/result.js'
import { cpuSeconds, sampleMemory } from '../lib/rss.js'
import { startSandboxProcess, type SandboxStats } from '../lib/sandbox.js'
import { round, sleep } from '../lib/stats.js'
import type { Draft, Suite, SuiteContext } from '../lib/suite.js'
import { addBenchTenant, makeRoot, startTenant } from '../lib/tenant.js'
import { routeMissing } from './http-probes.js'

export const BATCH = { items: 2000, latency_ms: 30, concurrency: 32, error_rate_503: 0.05, v8_max_rps: 1000, cap_s: 60 }
/** A small batch as a diagnostic: the same engine and flow with Kentro pipelines a tenth the size. */
const SMALL_ITEMS = 200

interface BatchStatus {
  lote_id?: string
  status?: string
  total?: number
  processados?: number
  sucessos?: number
  erros?: number
  started_at?: string | null
  finished_at?: string | null
}

interface PipelineProbe {
  opportunities: number
  kb: number
  ms: number
}

interface RunOutcome {
  label: string
  items: number
  kentro_pipelines: PipelineProbe
  completed: boolean
  items_done: number
  wall_ms: number
  wall_source: string
  ideal_ms: number
  ratio: number
  upstream_calls: number
  calls_per_item: number
  v8_calls: number
  v8_rps: number
  peak_rss_mb: number
  tenant_cpu_share: number
  sandbox_cpu_share: number
  final: BatchStatus
  routes: Record<string, number>
}

type RunResult = { available: false; reason: string } | { available: true; outcome: RunOutcome }

const V8_ROUTE = /^(GET|POST) \/(oauth|private-consignment)\//

function routeDelta (a: SandboxStats, b: SandboxStats): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(b.routes)) if (v - (a.routes[k] ?? 0) > 0) out[k] = v - (a.routes[k] ?? 0)
  return out
}

/** One batch on a fresh sandbox and a fresh tenant (no consult, cache or pipeline state left from another run). */
/** What one flow's Kentro lookup costs: every pipeline the tenant searches, fetched whole (as the tenant does). */
async function probePipelines (sandboxUrl: string): Promise<PipelineProbe> {
  let opportunities = 0
  let bytes = 0
  const t0 = performance.now()
  for (const pipelineId of [1, 3, 4]) {
    const res = await callJson<unknown[]>('POST', `${sandboxUrl}/kentro/int/getPipeOpportunities`, { body: { queueId: 25, apiKey: 'sandbox', pipelineId } })
    if (Array.isArray(res.body)) {
      opportunities += res.body.length
      bytes += JSON.stringify(res.body).length
    }
  }
  return { opportunities, kb: Math.round(bytes / 1024), ms: round(performance.now() - t0, 1) }
}

async function runBatch (ctx: SuiteContext, label: string, items: number, faults: Record<string, unknown>): Promise<RunResult> {
  const root = makeRoot(ctx.scratch, label.replace(/\W+/g, '-'))
  const sandbox = await startSandboxProcess(path.join(root, 'logs'))
  await sandbox.configure({ consult_delay_ms: 0, presenca_rpm: 1_000_000 })
  const tenant = await addBenchTenant(root, {
    sandboxUrl: sandbox.url,
    extra: {
      RATE_LIMIT_PER_MINUTE: '0',
      V8_MAX_RPS: String(BATCH.v8_max_rps),
      BATCH_CONCURRENCY: String(BATCH.concurrency),
      BATCH_MAX_ITEMS: String(items),
      LOG_LEVEL: 'info',
    },
  })
  const child = await startTenant(root, tenant.port)
  const base = `http://127.0.0.1:${tenant.port}`
  const auth = tenant.auth
  try {
    const probe = await callJson('GET', `${base}/clt/lotes`, { headers: auth })
    if (routeMissing(probe)) return { available: false, reason: 'GET/POST /clt/lotes are not registered yet (src/http/routes/batches.ts)' }
    const cpfs = (await sandbox.people('ok', items)).map((p) => p.cpf)
    if (cpfs.length < items) throw new Error(`the sandbox listed only ${cpfs.length} ok people`)
    const pipelines = await probePipelines(sandbox.url)

    await sandbox.faults(faults)
    const s0 = await sandbox.stats()
    const cpu0 = { tenant: cpuSeconds(child.pid) ?? 0, sandbox: cpuSeconds(sandbox.child.pid) ?? 0 }
    const mem = sampleMemory(child.pid, 250)
    const t0 = Date.now()
    const created = await callJson<{ lote_id?: string }>('POST', `${base}/clt/lotes`, { body: { cpfs }, headers: auth, timeoutMs: 60_000 })
    if (created.status !== 202) throw new Error(`POST /clt/lotes answered ${created.status}: ${JSON.stringify(created.body).slice(0, 300)}`)
    const id = created.body.lote_id
    let status: BatchStatus = {}
    let lastLog = t0
    let completed = false
    for (;;) {
      await sleep(1000)
      const res = await callJson<BatchStatus>('GET', `${base}/clt/lotes/${id}?limit=1`, { headers: auth, timeoutMs: 30_000 })
      if (res.status !== 200) throw new Error(`GET /clt/lotes/${id} answered ${res.status}`)
      status = res.body
      if (status.status === 'COMPLETED' || status.status === 'CANCELLED') {
        completed = status.status === 'COMPLETED'
        break
      }
      if (Date.now() - t0 > BATCH.cap_s * 1000) break
      if (Date.now() - lastLog >= 10_000) {
        lastLog = Date.now()
        ctx.log(`${label}: ${status.processados ?? '?'}/${status.total ?? cpfs.length} after ${Math.round((Date.now() - t0) / 1000)} s`)
      }
    }
    const clientWall = Date.now() - t0
    // Counted at the same moment as the wall time: the calls served while the batch ran.
    const s1 = await sandbox.stats()
    const cpu1 = { tenant: cpuSeconds(child.pid) ?? 0, sandbox: cpuSeconds(sandbox.child.pid) ?? 0 }
    const memory = mem.stop()
    if (!completed) {
      ctx.log(`${label}: capped at ${BATCH.cap_s} s with ${status.processados}/${status.total} done; cancelling`)
      await callJson('POST', `${base}/clt/lotes/${id}/cancelar`, { headers: auth }).catch(() => undefined)
    }
    await sandbox.clearFaults()
    const routes = routeDelta(s0, s1)
    const calls = Object.values(routes).reduce((a, n) => a + n, 0)
    const v8Calls = Object.entries(routes).filter(([k]) => V8_ROUTE.test(k)).reduce((a, [, n]) => a + n, 0)
    const serverWall = completed && status.started_at && status.finished_at ? Date.parse(status.finished_at) - Date.parse(status.started_at) : Number.NaN
    const useServer = Number.isFinite(serverWall) && serverWall > 0
    const wall = useServer ? serverWall : clientWall
    const done = status.processados ?? 0
    // Ideal: every upstream call served during the run, each taking exactly L, C at a time.
    const ideal = (calls * BATCH.latency_ms) / BATCH.concurrency
    return {
      available: true,
      outcome: {
        label,
        items,
        kentro_pipelines: pipelines,
        completed,
        items_done: done,
        wall_ms: wall,
        wall_source: useServer ? 'batch started_at→finished_at' : completed ? 'client POST→done' : `capped at ${BATCH.cap_s} s`,
        ideal_ms: Math.round(ideal),
        ratio: round(wall / ideal, 3),
        upstream_calls: calls,
        calls_per_item: round(calls / Math.max(1, done), 2),
        v8_calls: v8Calls,
        v8_rps: round(v8Calls / (clientWall / 1000), 1),
        peak_rss_mb: round(memory.peakMb, 1),
        tenant_cpu_share: round((cpu1.tenant - cpu0.tenant) / (clientWall / 1000), 2),
        sandbox_cpu_share: round((cpu1.sandbox - cpu0.sandbox) / (clientWall / 1000), 2),
        final: { status: status.status, total: status.total, processados: status.processados, sucessos: status.sucessos, erros: status.erros },
        routes,
      },
    }
  } finally {
    await stopChild(child)
    await sandbox.stop()
  }
}

function outcomeFigures (o: RunOutcome, suffix: string, title: string, withTargets = true): Figure[] {
  const rps = o.v8_rps > BATCH.v8_max_rps * 0.9 ? `V8 calls ran at ${o.v8_rps}/s, at the V8_MAX_RPS=${BATCH.v8_max_rps} pacing: the limiter binds.` : `V8 calls ran at ${o.v8_rps}/s (V8_MAX_RPS=${BATCH.v8_max_rps} not binding).`
  const scope = o.completed
    ? `${o.items} items in ${round(o.wall_ms / 1000, 1)} s (${o.wall_source})`
    : `NOT FINISHED: ${o.items_done}/${o.items} items done when capped at ${BATCH.cap_s} s; ratio over the calls served in that time`
  const kentro = `The 3 Kentro pipelines searched hold ${o.kentro_pipelines.opportunities} opportunities (${o.kentro_pipelines.kb} KB, ${o.kentro_pipelines.ms} ms for the three from the sandbox alone); the tenant lists each once and shares the index across lookups.`
  const heavy = Object.entries(o.routes).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `${k} ×${n}`).join(', ')
  return [
    figure(`wall_over_ideal${suffix}`, `${title}: wall time ÷ ideal`, o.ratio, '×', withTargets ? { op: '<=', value: 1.3 } : undefined,
      `${scope}; ideal ${round(o.ideal_ms / 1000, 1)} s = ${o.upstream_calls} upstream calls (${o.calls_per_item}/item) × ${BATCH.latency_ms} ms ÷ ${BATCH.concurrency}; ${o.final.sucessos ?? '?'} ok, ${o.final.erros ?? '?'} errors. CPU used: tenant ${o.tenant_cpu_share}, sandbox ${o.sandbox_cpu_share} core-seconds per second. ${rps} Most called: ${heavy}. ${kentro}`),
    figure(`peak_rss${suffix}`, `${title}: tenant peak RSS`, o.peak_rss_mb, 'MB', withTargets ? { op: '<', value: 150 } : undefined, 'VmHWM of the tenant process (high-water mark since start, sampled every 250 ms)'),
    figure(`items_per_s${suffix}`, `${title}: items finished per second`, round(o.items_done / (o.wall_ms / 1000), 1), 'items/s'),
  ]
}

function unavailable (draft: Draft, reason: string): void {
  draft.unavailable.push(`batches (${reason})`)
  for (const [suffix, title] of [['', 'clean'], ['_503', '5% 503s']] as const) {
    draft.figures.push(unavailableFigure(`wall_over_ideal${suffix}`, `${title}: wall time ÷ ideal`, '×', reason, { op: '<=', value: 1.3 }))
    draft.figures.push(unavailableFigure(`peak_rss${suffix}`, `${title}: tenant peak RSS`, 'MB', reason, { op: '<', value: 150 }))
  }
}

export const batchSuite: Suite = {
  name: 'batch',
  title: `Batch throughput: ${BATCH.items} CPFs through the flow`,
  budgetS: 3 * BATCH.cap_s + 120,
  async run (ctx, draft) {
    draft.params = { ...BATCH, small_items: SMALL_ITEMS, scenario: 'ok', sandbox_consult_delay_ms: 0 }
    const outcomes: RunOutcome[] = []
    const bySuffix = new Map<string, RunOutcome>()
    draft.raw = { runs: outcomes }
    const runs = [
      { label: 'clean', items: BATCH.items, suffix: '', title: 'clean', targets: true, faults: { latency_ms: BATCH.latency_ms } },
      { label: '5% 503', items: BATCH.items, suffix: '_503', title: '5% 503s', targets: true, faults: { latency_ms: BATCH.latency_ms, error_rate: BATCH.error_rate_503, status: 503 } },
      { label: `small ${SMALL_ITEMS}`, items: SMALL_ITEMS, suffix: '_small', title: `diagnostic, ${SMALL_ITEMS} CPFs (small pipelines)`, targets: false, faults: { latency_ms: BATCH.latency_ms } },
    ]
    for (const r of runs) {
      const result = await runBatch(ctx, r.label, r.items, r.faults)
      if (!result.available) return unavailable(draft, result.reason)
      const o = result.outcome
      outcomes.push(o)
      bySuffix.set(r.suffix, o)
      ctx.log(`${r.label}: ${o.items_done}/${o.items} in ${round(o.wall_ms / 1000, 1)} s vs ideal ${round(o.ideal_ms / 1000, 1)} s (${o.ratio}×), ${o.calls_per_item} calls/item, peak RSS ${o.peak_rss_mb} MB, CPU tenant ${o.tenant_cpu_share} sandbox ${o.sandbox_cpu_share}`)
      draft.figures.push(...outcomeFigures(o, r.suffix, r.title, r.targets))
    }
    // What limits the main runs, in one sentence each, now that the small diagnostic run is known.
    const small = bySuffix.get('_small')
    for (const suffix of ['', '_503']) {
      const o = bySuffix.get(suffix)
      if (!o) continue
      const busy = o.sandbox_cpu_share >= 0.8 ? `the sandbox process saturates a core (${o.sandbox_cpu_share})` : `CPU (tenant ${o.tenant_cpu_share}, sandbox ${o.sandbox_cpu_share} of a core)`
      const wall = draft.figures.find((f) => f.id === `wall_over_ideal${suffix}`)
      if (wall) wall.limit = `${busy}: each upstream call costs a client and a server round trip on the same 2 cores${suffix === '_503' ? '; retried reads wait 100–200 ms holding a worker, failed writes reschedule the item 250–500 ms later (waits the ideal does not count)' : ''}${small ? `; with ${small.items} CPFs the ratio is ${small.ratio}× (start-up and tail)` : ''}`
      const rss = draft.figures.find((f) => f.id === `peak_rss${suffix}`)
      if (rss) rss.limit = `${BATCH.concurrency} items in flight under the tenant heap flags (${TENANT_NODE_ARGS.join(' ')})${small ? `; the ${small.items}-CPF batch peaks at ${small.peak_rss_mb} MB` : ''}`
    }
    draft.notes.push('Ideal counts every upstream call the sandbox actually served (retries included) at exactly L each, C at a time; the ratio exposes everything else: waits between consult polls, retry backoff, and CPU time of the tenant and of the sandbox (both on the same 2 cores as everything else).')
  },
}
