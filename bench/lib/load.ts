/** HTTP load with autocannon: several short rounds, targets alternated (rotated each round) so they share the noise. */
import autocannon from 'autocannon'
import { cpuSeconds } from './rss.js'
import { median, round } from './stats.js'

export interface LoadTarget {
  id: string
  label: string
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** The serving process: its CPU time per request is recorded each round (what the server itself spends). */
  pid?: number
}

export interface LoadSettings {
  rounds: number
  seconds: number
  connections: number
  warmupSeconds: number
}

export interface RoundSample {
  round: number
  target: string
  /** 2xx responses per second over the round (errors and non-2xx do not count). */
  rps: number
  latency_p50_ms: number
  latency_p99_ms: number
  requests: number
  non2xx: number
  errors: number
  timeouts: number
  /** CPU time (user + system, all threads) of the serving process per request answered, µs; absent without a pid. */
  cpu_us_per_req?: number
}

export interface TargetSummary {
  id: string
  label: string
  median_rps: number
  median_p50_ms: number
  median_p99_ms: number
  median_cpu_us_per_req: number | null
  non2xx: number
  errors: number
}

async function shoot (t: LoadTarget, seconds: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url: t.url,
    method: t.method ?? 'GET',
    connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    ...(t.headers ? { headers: t.headers } : {}),
    ...(t.body !== undefined ? { body: t.body } : {}),
  })
}

export async function runRounds (targets: LoadTarget[], s: LoadSettings, log: (m: string) => void): Promise<RoundSample[]> {
  for (const t of targets) await shoot(t, s.warmupSeconds, s.connections) // JIT, caches, connection setup
  const samples: RoundSample[] = []
  for (let r = 0; r < s.rounds; r++) {
    // Rotate the order each round so no target always runs first (or right after the heaviest one).
    const order = targets.map((_, i) => targets[(i + r) % targets.length]!)
    for (const t of order) {
      const cpuBefore = t.pid === undefined ? undefined : cpuSeconds(t.pid)
      const res = await shoot(t, s.seconds, s.connections)
      const cpuAfter = t.pid === undefined ? undefined : cpuSeconds(t.pid)
      const ok = res['2xx'] ?? 0
      const sample: RoundSample = {
        round: r + 1,
        target: t.id,
        rps: round(ok / res.duration, 1),
        latency_p50_ms: res.latency.p50,
        latency_p99_ms: res.latency.p99,
        requests: res.requests.total,
        non2xx: res.non2xx,
        errors: res.errors,
        timeouts: res.timeouts,
        ...(cpuBefore !== undefined && cpuAfter !== undefined && res.requests.total > 0
          ? { cpu_us_per_req: round(((cpuAfter - cpuBefore) * 1e6) / res.requests.total, 1) }
          : {}),
      }
      samples.push(sample)
      log(`round ${r + 1}/${s.rounds} ${t.id.padEnd(14)} ${String(Math.round(sample.rps)).padStart(6)} req/s  p99 ${sample.latency_p99_ms} ms${sample.non2xx || sample.errors ? `  non2xx=${sample.non2xx} errors=${sample.errors}` : ''}`)
    }
  }
  return samples
}

export function summarize (targets: LoadTarget[], samples: RoundSample[]): TargetSummary[] {
  return targets.map((t) => {
    const mine = samples.filter((x) => x.target === t.id)
    return {
      id: t.id,
      label: t.label,
      median_rps: round(median(mine.map((x) => x.rps)), 1),
      median_p50_ms: median(mine.map((x) => x.latency_p50_ms)),
      median_p99_ms: median(mine.map((x) => x.latency_p99_ms)),
      median_cpu_us_per_req: mine.some((x) => x.cpu_us_per_req !== undefined) ? round(median(mine.flatMap((x) => (x.cpu_us_per_req === undefined ? [] : [x.cpu_us_per_req]))), 1) : null,
      non2xx: mine.reduce((a, x) => a + x.non2xx, 0),
      errors: mine.reduce((a, x) => a + x.errors, 0),
    }
  })
}

/** Median over rounds of (target req/s ÷ baseline req/s in the same round): pairs measurements taken seconds apart. */
export function pairedRatio (samples: RoundSample[], targetId: string, baselineId: string): { median: number; perRound: number[] } {
  const rounds = [...new Set(samples.map((x) => x.round))]
  const perRound: number[] = []
  for (const r of rounds) {
    const t = samples.find((x) => x.round === r && x.target === targetId)
    const b = samples.find((x) => x.round === r && x.target === baselineId)
    if (t && b && b.rps > 0) perRound.push(round(t.rps / b.rps, 3))
  }
  return { median: round(median(perRound), 3), perRound }
}
