/** Everything a tenant process runs besides HTTP, wired once from its config, db and logger. */
import type { ConfigKey } from '../config/schema.js'
import type { ConfigStore } from '../config/store.js'
import type { Db } from '../db/database.js'
import type { Logger } from '../log/logger.js'
import { HttpClient } from '../upstream/http-client.js'
import { KentroClient } from '../upstream/kentro.js'
import { PresencaClient } from '../upstream/presenca.js'
import { RateLimiter } from '../upstream/rate-limiter.js'
import { TokenCache } from '../upstream/token-cache.js'
import { credentialsOf, passwordGrant } from '../upstream/v8-auth.js'
import { V8Client } from '../upstream/v8.js'

export interface TokenStatus {
  cached: boolean
  /** Seconds until the cached token expires; null when none is cached. */
  expires_in: number | null
  /** When the last token was obtained (ISO), if known. */
  obtained_at: string | null
  /** The last login failure's reason (no secrets), if the last attempt failed. */
  last_error: string | null
}

export interface TenantServices {
  v8: V8Client
  kentro: KentroClient
  presenca: PresencaClient
  tokens: TokenCache
  tokenStatus(): TokenStatus
  batchCounts(): { pending: number; running: number }
  /** Stop background work (batch workers) and release upstream connections. */
  close(): Promise<void>
}

export interface ServiceDeps {
  config: ConfigStore
  db: Db
  logger: Logger
  now?: () => number
  /** Per-attempt upstream deadline (tests shorten it). */
  upstreamTimeoutMs?: number
}

const V8_KEYS: readonly ConfigKey[] = ['V8_AUTH_URL', 'V8_API_URL', 'V8_CLIENT_ID', 'V8_AUDIENCE', 'V8_USERNAME', 'V8_PASSWORD']
const PRESENCA_KEYS: readonly ConfigKey[] = ['PRESENCABANK_URL', 'PRESENCABANK_LOGIN', 'PRESENCABANK_PASSWORD']

export function createServices(deps: ServiceDeps): TenantServices {
  const now = deps.now ?? Date.now
  const config = (): ReturnType<ConfigStore['get']> => deps.config.get()
  const http = new HttpClient({ logger: deps.logger, ...(deps.upstreamTimeoutMs ? { timeoutMs: deps.upstreamTimeoutMs } : {}) })
  const tokens = new TokenCache({
    db: deps.db,
    logger: deps.logger,
    credentials: () => credentialsOf(config()),
    login: (creds, signal) => passwordGrant(http, creds, signal),
    now,
  })
  // V8_MAX_RPS is read once: a change takes effect on the next (zero-downtime) reload.
  const v8 = new V8Client({ http, tokens, limiter: new RateLimiter(config().V8_MAX_RPS), config, logger: deps.logger, now })
  const kentro = new KentroClient(http, config)
  const presenca = new PresencaClient(http, config, now)

  const unsubscribe = deps.config.onChange((_next, _prev, changed) => {
    if (changed.some((k) => V8_KEYS.includes(k))) tokens.invalidateAll()
    if (changed.some((k) => PRESENCA_KEYS.includes(k))) presenca.invalidate()
  })

  return {
    v8,
    kentro,
    presenca,
    tokens,
    tokenStatus: () => tokens.status(),
    batchCounts: () => ({ pending: 0, running: 0 }),
    close: async () => {
      unsubscribe()
      await http.close()
    },
  }
}
