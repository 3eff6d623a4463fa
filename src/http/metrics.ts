/**
 * The tenant's Prometheus metrics (prom-client), served at GET /metrics (routes/metrics.ts).
 *
 * Per-request cost is kept to one Map update: requests are counted by method, route PATTERN (fastify's
 * routeOptions.url, e.g. /cache/simulacao/:cpf, never the URL itself) and status in plain Maps, turned into the
 * counter only when Prometheus scrapes. Everything else is read at scrape time (token cache, batch items, log
 * drops, shape warnings) or counted where it happens (upstream calls, finished flows, refused keys). No label ever
 * carries a CPF, a key or a value a caller chooses: routes are patterns, outcomes and reasons are fixed words.
 *
 * prom-client itself (~2 MB of heap with its code, plus the process-metrics observers) loads only for a tenant
 * whose metrics are on: at start when the file has a METRICS_TOKEN (enable()), else at the first scrape after one
 * is set. Requests, flows and refused keys are counted in Maps from the start either way; the upstream latency
 * histogram and the process metrics count from the moment prom-client is loaded.
 */
import type { Histogram, Registry } from 'prom-client'
import type { FlowOutcome, FlowRunner } from '../domain/flow/types.js'
import type { LogStats } from '../log/logger.js'
import type { UpstreamCallReport } from '../upstream/http-client.js'
import type { TokenCacheStatus } from '../upstream/token-cache.js'

export const METRICS_PREFIX = 'clt_v8_'

/** Why a request was refused at the key check. */
export type AuthFailure = 'wrong_key' | 'locked_out' | 'metrics_token'

export interface MetricsSources {
  tokenStatus(): TokenCacheStatus
  /** Batch items by state over every batch kept (PENDING, RUNNING, SUCCESS, FAILED, CANCELLED). */
  batchItems(): Record<string, number>
  /** Upstream answers that did not match the known shapes, per `<upstream> <route>`. */
  shapeWarnings(): Record<string, number>
  /** Lines written and dropped per log destination (absent in tests with a plain logger). */
  logStats?(): LogStats
  now?(): number
}

/** Seconds: an upstream answers in tens of milliseconds to tens of seconds (V8's consult, PresençaBank's pacing). */
const UPSTREAM_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30]

export class TenantMetrics {
  /** method → route → status → count, since start. */
  readonly #requests = new Map<string, Map<string, Map<number, number>>>()
  /** `bank outcome code` → count, since start. */
  readonly #flows = new Map<string, { bank: string; outcome: string; code: string; n: number }>()
  readonly #auth: Record<AuthFailure, number> = { wrong_key: 0, locked_out: 0, metrics_token: 0 }
  readonly #sources: MetricsSources
  readonly #defaultMetrics: boolean
  #loading: Promise<Registry> | undefined
  #upstream: Histogram<'upstream' | 'route' | 'outcome'> | undefined

  constructor (sources: MetricsSources, opts: { defaultMetrics?: boolean } = {}) {
    this.#sources = sources
    this.#defaultMetrics = opts.defaultMetrics !== false
  }

  /** Load prom-client and build this tenant's registry (once; later calls wait for the same). */
  enable (): Promise<void> {
    return this.#registry().then(() => undefined)
  }

  #registry (): Promise<Registry> {
    // Node's own import of this CommonJS package names its exports; the bundle's chunk (scripts/bundle.mjs) only has
    // the package's module.exports as its default export.
    this.#loading ??= import('prom-client')
      .then((m) => ('Registry' in m ? m : (m as { default: typeof import('prom-client') }).default))
      .then((prom) => this.#build(prom))
    return this.#loading
  }

  #build (prom: typeof import('prom-client')): Registry {
    const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = prom
    const sources = this.#sources
    // Every metric lives in this tenant's registry only (registers, or registers: [] + registerMetric), never in
    // prom-client's global one: tests build many tenants in one process.
    const registry = new Registry()
    const registers = [registry]
    const requests = this.#requests
    const flows = this.#flows
    const auth = this.#auth
    const now = sources.now ?? Date.now
    // Process CPU, memory, heap and event-loop delay, like any Node service.
    if (this.#defaultMetrics) collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX })

    /** A counter whose values are read from this tenant's own counts when Prometheus scrapes. */
    const countedAtScrape = (name: string, help: string, labelNames: string[], read: () => Iterable<[Record<string, string>, number]>): void => {
      registry.registerMetric(new Counter({
        name: `${METRICS_PREFIX}${name}`,
        registers: [],
        help,
        labelNames,
        collect () {
          this.reset()
          for (const [labels, n] of read()) this.inc(labels, n)
        },
      }))
    }

    countedAtScrape('http_requests_total', 'Requests answered, by method, route pattern (unmatched = no route) and status.', ['method', 'route', 'status'], function * () {
      for (const [method, routes] of requests) {
        for (const [route, statuses] of routes) for (const [status, n] of statuses) yield [{ method, route, status: String(status) }, n]
      }
    })
    this.#upstream = new Histogram({
      name: `${METRICS_PREFIX}upstream_request_duration_seconds`,
      help: 'Upstream calls (each attempt), by upstream, route and outcome, with their duration.',
      labelNames: ['upstream', 'route', 'outcome'],
      buckets: UPSTREAM_BUCKETS,
      registers,
    })
    countedAtScrape('flows_total', 'Flow runs (API calls and batch items), by bank (v8, presencabank), outcome (success, failed, pending, error) and failure code.',
      ['bank', 'outcome', 'code'], function * () {
        for (const f of flows.values()) yield [{ bank: f.bank, outcome: f.outcome, code: f.code }, f.n]
      })
    countedAtScrape('auth_failures_total', 'Requests refused at the key check: wrong API key, address locked out after wrong keys, wrong metrics token.',
      ['reason'], function * () {
        for (const [reason, n] of Object.entries(auth)) yield [{ reason }, n]
      })

    const tokenGauge = (name: string, help: string, read: (t: TokenCacheStatus) => number): void => {
      registry.registerMetric(new Gauge({ name: `${METRICS_PREFIX}${name}`, help, registers: [], collect () { this.set(read(sources.tokenStatus())) } }))
    }
    tokenGauge('v8_token_cached', '1 when a valid V8 token is cached, else 0.', (t) => (t.cached ? 1 : 0))
    tokenGauge('v8_token_expires_in_seconds', 'Seconds until the cached V8 token expires (0 without one).', (t) => t.expires_in ?? 0)
    tokenGauge('v8_token_age_seconds', 'Seconds since the cached V8 token was obtained (0 without one).', (t) => (t.obtained_at ? Math.max(0, (now() - Date.parse(t.obtained_at)) / 1000) : 0))
    tokenGauge('v8_token_login_failing', '1 when the last V8 login attempt failed (wrong password, V8 down…), else 0.', (t) => (t.last_error ? 1 : 0))

    registry.registerMetric(new Gauge({
      name: `${METRICS_PREFIX}batch_items`,
      registers: [],
      help: 'Batch items kept in the database, by state.',
      labelNames: ['state'],
      collect () {
        this.reset()
        const counts = sources.batchItems()
        for (const state of ['PENDING', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELLED']) this.set({ state }, counts[state] ?? 0)
      },
    }))
    countedAtScrape('upstream_shape_warnings_total', 'Upstream answers (or listing items) that did not match the known shapes, by upstream and route.',
      ['upstream', 'route'], function * () {
        for (const [key, n] of Object.entries(sources.shapeWarnings())) {
          const space = key.indexOf(' ')
          yield [{ upstream: key.slice(0, space), route: key.slice(space + 1) }, n]
        }
      })
    const logCounter = (name: string, help: string, read: (s: LogStats[string]) => number): void => {
      countedAtScrape(name, help, ['destination'], function * () {
        for (const [destination, s] of Object.entries(sources.logStats?.() ?? {})) yield [{ destination }, read(s)]
      })
    }
    logCounter('log_lines_dropped_total', 'Log lines dropped because the disk (or stdout) could not keep up, by destination.', (s) => s.dropped)
    logCounter('log_lines_written_total', 'Log lines accepted for writing, by destination.', (s) => s.written)
    return registry
  }

  /** One answered request (an onResponse hook calls this: a Map update, nothing else). */
  countRequest (method: string, route: string | undefined, status: number): void {
    let routes = this.#requests.get(method)
    if (!routes) this.#requests.set(method, (routes = new Map()))
    const key = route ?? 'unmatched'
    let statuses = routes.get(key)
    if (!statuses) routes.set(key, (statuses = new Map()))
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
  }

  upstreamCall (c: UpstreamCallReport): void {
    this.#upstream?.observe({ upstream: c.upstream, route: c.route, outcome: c.outcome }, c.seconds)
  }

  /**
   * The same runner, each run's outcome counted: success, failed (with its code, one of the flow's own fixed
   * codes), pending (the consult still waits), or error (it threw: an upstream down, a cancelled run).
   */
  countFlows<R> (bank: string, runner: FlowRunner<R>): FlowRunner<R> {
    const count = (outcome: string, code: string): void => {
      const key = `${bank} ${outcome} ${code}`
      const f = this.#flows.get(key)
      if (f) f.n++
      else this.#flows.set(key, { bank, outcome, code, n: 1 })
    }
    return {
      async run (input, opts) {
        let outcome: FlowOutcome<R>
        try {
          outcome = await runner.run(input, opts)
        } catch (err) {
          count('error', '')
          throw err
        }
        count(outcome.kind, outcome.kind === 'failed' ? outcome.code : '')
        return outcome
      },
    }
  }

  authFailure (reason: AuthFailure): void {
    this.#auth[reason]++
  }

  /** The Prometheus text exposition and its content type (loads prom-client on the first call when enable() was not). */
  async render (): Promise<{ text: string; contentType: string }> {
    const registry = await this.#registry()
    return { text: await registry.metrics(), contentType: registry.contentType }
  }
}
