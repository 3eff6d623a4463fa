/** GET /health — liveness and readiness of this tenant, and which integrations are configured; public (no secrets in it). */
import type { FastifyPluginAsync } from 'fastify'
import { kentroConfigured, presencaConfigured, v8Configured, type TenantConfig } from '../../config/schema.js'
import type { ConfigStore } from '../../config/store.js'
import { databaseProbe, type Db } from '../../db/database.js'
import type { PresencaStatus } from '../../upstream/presenca.js'
import type { TokenCacheStatus } from '../../upstream/token-cache.js'

/** How long a healthy reading is reused: a burst of probes costs one set of SQLite reads per interval. */
export const HEALTH_CACHE_MS = 1000

interface Checks {
  dbOk: boolean
  webhooks?: Record<string, unknown>
  batches: { pending: number; running: number }
  token: { cached: boolean; expires_in: number | null; obtained_at: string | null }
  /** PresençaBank CPFs by state; null when it is not configured. */
  presenca: PresencaCounts | null
}

type PresencaCounts = { total: number; processando: number; concluidos: number; erros: number }

export interface HealthRouteOptions {
  db: Db
  config: ConfigStore
  now: () => number
  startedAt: number
  /** What the checks report besides the database. */
  status: {
    batchCounts(): { pending: number; running: number }
    tokenStatus(): TokenCacheStatus
    /** Upstream answers (or listing items) that did not match the known shapes since start: contract drift. */
    shapeWarnings(): number
    /** PresençaBank: configured, token cached, last error, calls waiting for their pacing slot. */
    presencaStatus(): PresencaStatus
    /** PresençaBank results by state (the older system's `precencabank.cache`). */
    presencaCounts(): PresencaCounts
    /** V8 webhook registration, refused deliveries (wrong secret), events and callbacks waiting or dead. */
    webhooks?(): Record<string, unknown>
  }
  /** How long a healthy reading is reused (default HEALTH_CACHE_MS; 0 reads on every probe). */
  cacheMs?: number
  /** Monotonic milliseconds for that reuse (tests pass their own). */
  clock?: () => number
}

/** The PresençaBank block: never a secret, only whether it can work and what went wrong last. */
function presencaCheck (s: PresencaStatus): Record<string, unknown> {
  return { configured: s.configured, token_cached: s.token_cached, expires_in: s.expires_in, last_error: s.last_error, last_error_at: s.last_error_at, per_minute: s.per_minute, waiting: s.waiting }
}

export const healthRoutes: FastifyPluginAsync<HealthRouteOptions> = async (app, deps) => {
  const databaseOk = databaseProbe(deps.db)
  const cacheMs = deps.cacheMs ?? HEALTH_CACHE_MS
  const clock = deps.clock ?? (() => performance.now())
  let last: { at: number; checks: Checks } | undefined
  /** The serialized body after status, timestamp and uptime, and what it was made from. */
  let body: { checks: Checks; config: TenantConfig; warnings: number; presenca: string; tail: string } | undefined

  const read = (): Checks => {
    let dbOk = databaseOk()
    let batches = { pending: 0, running: 0 }
    let token: Checks['token'] = { cached: false, expires_in: null, obtained_at: null }
    let presenca: PresencaCounts | null = null
    let webhooks: Checks['webhooks']
    if (dbOk) {
      // These read the database; when it is unusable the database check already says what matters.
      try {
        batches = deps.status.batchCounts()
        const t = deps.status.tokenStatus()
        token = { cached: t.cached, expires_in: t.expires_in, obtained_at: t.obtained_at }
        if (deps.status.presencaStatus().configured) presenca = deps.status.presencaCounts()
        webhooks = deps.status.webhooks?.()
      } catch {
        dbOk = false
      }
    }
    return { dbOk, batches, token, presenca, ...(webhooks ? { webhooks } : {}) }
  }

  /**
   * The body after status, timestamp and uptime. Probes and load balancers hit this route far more often than
   * anything in it changes, so it is serialized again only when the reading, the config, the shape warnings or the
   * PresençaBank status changed (each of which still shows at the next probe).
   */
  const tailOf = (checks: Checks, config: TenantConfig, warnings: number, presencaStatus: Record<string, unknown>): string => {
    const { dbOk, batches, token, presenca, webhooks } = checks
    const json = JSON.stringify({
      environment: config.ENVIRONMENT,
      port: config.PORT,
      tenant: config.TENANT_NAME,
      checks: {
        database: dbOk ? 'ok' : 'unavailable',
        // When the token was obtained (its age: the fleet console shows it); never the token.
        v8_token: { cached: token.cached, expires_in: token.expires_in, obtained_at: token.obtained_at },
        batches,
        upstream_shape_warnings: warnings,
        presencabank: presencaStatus,
        // Liveness does not depend on these (a tenant without its V8 login still runs and serves its page), but an
        // operator or a monitor must see that it cannot do its work yet.
        integrations: {
          v8: { configured: v8Configured(config) },
          kentro: { configured: kentroConfigured(config) },
          presencabank: { configured: presencaConfigured(config) },
        },
        ...(webhooks ? { webhooks } : {}),
      },
      // The older system's block, for monitors that read it (only when PresençaBank is configured here).
      ...(presenca
        ? { precencabank: { cache: presenca, endpoints: { fluxoCompleto: '/clt/fluxo-completo-precencabank', status: '/clt/status-precencabank/:cpf' } } }
        : {}),
    })
    return json.slice(1) // without its opening brace: the fields that change per request go first
  }

  /** GET /health — probes (PM2 scripts, Kubernetes every few seconds) log only when something is wrong. */
  app.get('/health', { schema: { hide: true }, logLevel: 'warn' }, async (_req, reply) => {
    const now = clock()
    // A healthy reading is reused for up to cacheMs; an unhealthy one never, so recovery shows at the next probe.
    if (!last || now - last.at >= cacheMs || !last.checks.dbOk) last = { at: now, checks: read() }
    const config = deps.config.get()
    const warnings = deps.status.shapeWarnings()
    const presencaStatus = presencaCheck(deps.status.presencaStatus())
    const presenca = Object.values(presencaStatus).join('|')
    if (body?.checks !== last.checks || body.config !== config || body.warnings !== warnings || body.presenca !== presenca) {
      body = { checks: last.checks, config, warnings, presenca, tail: tailOf(last.checks, config, warnings, presencaStatus) }
    }
    const { dbOk } = last.checks
    const head = `{"status":"${dbOk ? 'OK' : 'DEGRADED'}","timestamp":"${new Date(deps.now()).toISOString()}","uptime":${Math.round((deps.now() - deps.startedAt) / 1000)},`
    return reply.code(dbOk ? 200 : 503).type('application/json; charset=utf-8').send(head + body.tail)
  })
}
