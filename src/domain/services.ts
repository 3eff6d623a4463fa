/** Everything a tenant process runs besides HTTP, wired once from its config, db and logger. */
import type { ConfigStore } from '../config/store.js'
import type { Db } from '../db/database.js'
import type { Logger } from '../log/logger.js'

export interface TokenStatus {
  cached: boolean
  /** Seconds until the cached token expires; null when none is cached. */
  expires_in: number | null
  /** When the last token was obtained (ISO), if any. */
  obtained_at: string | null
  /** The last login failure's reason (no secrets), if the last attempt failed. */
  last_error: string | null
}

export interface TenantServices {
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
}

export function createServices(_deps: ServiceDeps): TenantServices {
  return {
    tokenStatus: () => ({ cached: false, expires_in: null, obtained_at: null, last_error: null }),
    batchCounts: () => ({ pending: 0, running: 0 }),
    close: async () => {},
  }
}
