/** Bench 2 — token cache: concurrent cold requests → tokens issued, cached lookup latency, restart → tokens issued. */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { pino } from 'pino'
import { ConfigStore } from '../../src/config/store.js'
import { openDatabase } from '../../src/db/database.js'
import { createServices, type TenantServices } from '../../src/tenant.js'
import { BENCH_SERVERS_DIR } from '../lib/paths.js'
import { startChild, logTail } from '../lib/procs.js'
import { figure } from '../lib/result.js'
import { startSandboxProcess } from '../lib/sandbox.js'
import { percentileSorted, round, sleep } from '../lib/stats.js'
import type { Suite } from '../lib/suite.js'
import { benchTenantConfig } from '../lib/token-config.js'

const CONCURRENT = 200
const ITERATIONS = 200_000

const hash = (t: string): string => createHash('sha256').update(t).digest('hex').slice(0, 12)

/** Per-call time of `fn` over `n` sequential awaited calls, in µs, sorted. */
async function timeCalls (n: number, fn: () => Promise<unknown>): Promise<Float64Array> {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await fn()
    out[i] = (performance.now() - t0) * 1000
  }
  return out.sort()
}

export const tokenSuite: Suite = {
  name: 'token',
  title: 'V8 token cache',
  budgetS: 120,
  async run (ctx, draft) {
    draft.params = { concurrent_requests: CONCURRENT, lookup_iterations: ITERATIONS, token_ttl_s: 86_400, wiring: 'createServices (real HttpClient, TokenCache, V8Client) on a SQLite file' }
    const sandbox = await startSandboxProcess(ctx.scratch)
    const dbFile = path.join(ctx.scratch, 'data-token.sqlite')
    const config = new ConfigStore(benchTenantConfig(sandbox.url))
    const logger = pino({ level: 'silent' })
    let db = openDatabase(dbFile)
    let services: TenantServices = createServices({ config, db, logger })
    const issued = async (fn: () => Promise<unknown>): Promise<number> => {
      const before = (await sandbox.stats()).tokens_issued
      await fn()
      return (await sandbox.stats()).tokens_issued - before
    }

    // 1. Cold: nothing in memory or on disk; N callers at once.
    let distinct = 0
    const coldIssued = await issued(async () => {
      const tokens = await Promise.all(Array.from({ length: CONCURRENT }, () => services.tokens.get()))
      distinct = new Set(tokens.map(hash)).size
    })
    ctx.log(`cold: ${CONCURRENT} concurrent TokenCache.get() → ${coldIssued} token(s) issued, ${distinct} distinct`)
    draft.figures.push(figure('cold_tokens_issued', `${CONCURRENT} concurrent cold TokenCache.get() → tokens issued`, coldIssued, 'tokens', { op: '==', value: 1 },
      `${distinct} distinct token(s) handed out; single-flight lru-cache fetch`))

    // 1b. The same through the V8 client: every call needs a token, none is cached.
    services.tokens.invalidateAll()
    const day = new Date().toISOString().slice(0, 10)
    const viaClient = await issued(() => Promise.all(Array.from({ length: CONCURRENT }, () => services.v8.listOperations({ startDate: day, endDate: day, limit: 1 }))))
    ctx.log(`cold via V8Client: ${CONCURRENT} concurrent listOperations → ${viaClient} token(s) issued`)
    draft.figures.push(figure('cold_client_tokens_issued', `${CONCURRENT} concurrent cold V8 API calls (GET operations) → tokens issued`, viaClient, 'tokens', { op: '==', value: 1 }))

    // 2. Cached lookup latency, against the floor of awaiting any resolved promise.
    await services.tokens.get()
    const floor = await timeCalls(ITERATIONS, () => Promise.resolve('x'))
    const cached = await timeCalls(ITERATIONS, () => services.tokens.get())
    const p = (a: Float64Array, q: number): number => round(percentileSorted(a, q), 2)
    draft.raw = {
      cached_lookup_us: { p50: p(cached, 50), p90: p(cached, 90), p99: p(cached, 99), p999: p(cached, 99.9), max: round(cached[cached.length - 1]!, 1) },
      await_floor_us: { p50: p(floor, 50), p99: p(floor, 99), p999: p(floor, 99.9) },
    }
    ctx.log(`cached lookup: p50 ${p(cached, 50)} µs, p99 ${p(cached, 99)} µs (await floor p99 ${p(floor, 99)} µs)`)
    draft.figures.push(figure('cached_lookup_p50_us', 'cached token lookup p50 (in-process)', p(cached, 50), 'µs'))
    draft.figures.push(figure('cached_lookup_p99_us', 'cached token lookup p99 (in-process)', p(cached, 99), 'µs', { op: '<', value: 100 },
      `target 0.1 ms; ${ITERATIONS} sequential awaited get() calls; an await of a resolved promise alone costs p99 ${p(floor, 99)} µs; each get() hashes the credentials (sha256) to find the entry`))

    // 3a. Restart in-process: new services, new cache, same database file.
    await services.close()
    db.close()
    db = openDatabase(dbFile)
    services = createServices({ config, db, logger })
    const restartIssued = await issued(() => Promise.all(Array.from({ length: CONCURRENT }, () => services.tokens.get())))
    ctx.log(`restart (new cache, same db): ${restartIssued} token(s) issued`)
    draft.figures.push(figure('restart_tokens_issued', 'restart (new TokenCache on the same db file) → tokens issued', restartIssued, 'tokens', { op: '==', value: 0 }))
    await services.close()
    db.close()

    // 3b. Restart as a real new process.
    const out = path.join(ctx.scratch, 'probe.json')
    const probe = startChild('token-probe', process.execPath, [path.join(BENCH_SERVERS_DIR, 'token-probe.js'), '--db', dbFile, '--sandbox', sandbox.url, '--n', String(CONCURRENT), '--out', out], {
      logFile: path.join(ctx.scratch, 'token-probe.log'),
    })
    const before = (await sandbox.stats()).tokens_issued
    const code = await Promise.race([probe.exited, sleep(30_000).then(() => 'timeout')])
    if (code !== 0 || !fs.existsSync(out)) throw new Error(`token probe failed (${code}): ${logTail(probe)}`)
    const processIssued = (await sandbox.stats()).tokens_issued - before
    const probeResult = JSON.parse(fs.readFileSync(out, 'utf8')) as { distinct: string[]; ms: number }
    ctx.log(`restart (new process): ${processIssued} token(s) issued`)
    draft.figures.push(figure('restart_process_tokens_issued', 'restart (new process on the same db file) → tokens issued', processIssued, 'tokens', { op: '==', value: 0 },
      `${CONCURRENT} concurrent get() answered in ${round(probeResult.ms, 1)} ms from the persisted token`))
  },
}
