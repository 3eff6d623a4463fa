/** The tenant's V8 token: single-flight lru-cache fetch, persisted in SQLite by credential fingerprint, negative cache for refusals. */
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { Db } from '../db/database.js'
import type { Logger } from '../log/logger.js'
import { UpstreamError } from './errors.js'
import type { GrantedToken, V8Credentials } from './v8-auth.js'

interface CachedToken {
  token: string
  tokenType: string
  expiresAt: number
  obtainedAt: number
}

export interface TokenCacheOptions {
  db: Db
  logger: Logger
  /** The credentials in force now (read from the config store at each call). */
  credentials: () => V8Credentials
  login: (creds: V8Credentials, signal?: AbortSignal) => Promise<GrantedToken>
  now?: () => number
  /** How long a refused login is answered from memory instead of asking Auth0 again. */
  negativeTtlMs?: number
}

/** sha256 over everything that decides which token we get; the password never leaves this hash. */
export function fingerprint(c: V8Credentials): string {
  return createHash('sha256').update(JSON.stringify([c.authUrl, c.clientId, c.audience, c.username, c.password])).digest('hex')
}

/** Renew this long before expiry: 60 s for real (24 h) tokens, a quarter of the lifetime for short ones. */
export function skewMs(expiresInMs: number): number {
  return expiresInMs >= 240_000 ? 60_000 : expiresInMs / 4
}

export class TokenCache {
  readonly #lru: LRUCache<string, CachedToken, V8Credentials>
  readonly #opts: Required<Omit<TokenCacheOptions, 'db'>>
  readonly #select
  readonly #upsert
  readonly #deleteAll
  readonly #deleteToken
  readonly #failures = new Map<string, { error: UpstreamError; until: number }>()
  #lastError: string | null = null

  constructor(opts: TokenCacheOptions) {
    this.#opts = { now: Date.now, negativeTtlMs: 30_000, ...opts }
    this.#select = opts.db.prepare<[string], { access_token: string; token_type: string; expires_at: number }>(
      'SELECT access_token, token_type, expires_at FROM token_cache WHERE fingerprint = ?',
    )
    this.#upsert = opts.db.prepare(
      `INSERT INTO token_cache (fingerprint, access_token, token_type, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (fingerprint) DO UPDATE SET access_token = excluded.access_token, token_type = excluded.token_type, expires_at = excluded.expires_at`,
    )
    this.#deleteAll = opts.db.prepare('DELETE FROM token_cache')
    this.#deleteToken = opts.db.prepare('DELETE FROM token_cache WHERE access_token = ?')
    this.#lru = new LRUCache<string, CachedToken, V8Credentials>({
      max: 4,
      fetchMethod: async (fp, _stale, { signal, options, context }) => {
        const token = await this.#obtain(fp, context, signal)
        options.ttl = Math.max(1, token.expiresAt - skewMs(token.expiresAt - token.obtainedAt) - this.#opts.now())
        return token
      },
      // Expiry is checked by us against expiresAt; the lru TTL only makes it refetch early.
      ttlAutopurge: false,
      allowStale: false,
      noDeleteOnFetchRejection: false,
    })
  }

  /** A valid access token for the current credentials (one login shared by all concurrent callers). */
  async get(signal?: AbortSignal): Promise<string> {
    const creds = this.#opts.credentials()
    const fp = fingerprint(creds)
    const failure = this.#failures.get(fp)
    if (failure && failure.until > this.#opts.now()) throw failure.error
    const token = await this.#lru.fetch(fp, { context: creds, ...(signal ? { signal } : {}) })
    if (!token || token.expiresAt <= this.#opts.now()) {
      this.#lru.delete(fp)
      const again = await this.#lru.fetch(fp, { context: creds, forceRefresh: true })
      if (!again) throw new UpstreamError('upstream_unavailable', 'Não foi possível obter um token da V8.', 503, 'V8')
      return again.token
    }
    return token.token
  }

  /** Drop the token the upstream just refused (401), unless another caller already replaced it. */
  invalidateToken(token: string): void {
    const fp = fingerprint(this.#opts.credentials())
    if (this.#lru.peek(fp)?.token === token) this.#lru.delete(fp)
    this.#deleteToken.run(token)
  }

  /** Forget every token and refusal (new credentials saved): in-flight fetches are aborted and cannot store. */
  invalidateAll(): void {
    this.#lru.clear()
    this.#failures.clear()
    this.#deleteAll.run()
    this.#lastError = null
  }

  status(): { cached: boolean; expires_in: number | null; obtained_at: string | null; last_error: string | null } {
    const fp = fingerprint(this.#opts.credentials())
    const t = this.#lru.peek(fp) ?? this.#fromDb(fp)
    const now = this.#opts.now()
    if (!t || t.expiresAt <= now) return { cached: false, expires_in: null, obtained_at: null, last_error: this.#lastError }
    return {
      cached: true,
      expires_in: Math.floor((t.expiresAt - now) / 1000),
      obtained_at: t.obtainedAt ? new Date(t.obtainedAt).toISOString() : null,
      last_error: this.#lastError,
    }
  }

  async #obtain(fp: string, creds: V8Credentials, signal: AbortSignal): Promise<CachedToken> {
    const now = this.#opts.now()
    const persisted = this.#fromDb(fp)
    if (persisted && persisted.expiresAt - skewMs(persisted.expiresAt - now) > now) return persisted
    try {
      const granted = await this.#opts.login(creds, signal)
      const obtainedAt = this.#opts.now()
      const token: CachedToken = { token: granted.access_token, tokenType: granted.token_type, expiresAt: obtainedAt + granted.expires_in * 1000, obtainedAt }
      // The credentials may have changed while we were logging in: never store a token for old ones.
      if (!signal.aborted && fingerprint(this.#opts.credentials()) === fp) {
        this.#upsert.run(fp, token.token, token.tokenType, token.expiresAt)
        this.#lastError = null
      }
      this.#opts.logger.info({ expires_in: granted.expires_in }, 'v8 token obtained')
      return token
    } catch (err) {
      if (err instanceof UpstreamError && !err.transient && err.code !== 'v8_nao_configurado') {
        this.#failures.set(fp, { error: err, until: this.#opts.now() + this.#opts.negativeTtlMs })
      }
      this.#lastError = err instanceof Error ? err.message : String(err)
      this.#opts.logger.warn({ code: (err as UpstreamError).code }, 'v8 login failed')
      throw err
    }
  }

  #fromDb(fp: string): CachedToken | undefined {
    const row = this.#select.get(fp)
    // obtainedAt is unknown for a persisted row; 0 marks it.
    return row ? { token: row.access_token, tokenType: row.token_type, expiresAt: row.expires_at, obtainedAt: 0 } : undefined
  }
}
