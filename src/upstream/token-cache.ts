/** The tenant's V8 token: single-flight lru-cache fetch, persisted in SQLite by credential fingerprint, negative cache for refusals. */
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { Db } from '../db/database.js'
import type { Logger } from '../log/logger.js'
import { raceAbort } from './abort.js'
import { UpstreamError } from './errors.js'
import type { GrantedToken, V8Credentials } from './v8-auth.js'

interface CachedToken {
  token: string
  tokenType: string
  expiresAt: number
  /** 0 when unknown (a token read back from the database). */
  obtainedAt: number
}

/** What the lru fetchMethod needs: the credentials to log in with and the generation they belong to. */
interface FetchContext {
  creds: V8Credentials
  generation: number
}

export interface TokenCacheOptions {
  db: Db
  logger: Logger
  /** The credentials in force now (read from the config store at each call). */
  credentials: () => V8Credentials
  /** One password grant; never retried by the cache. */
  login: (creds: V8Credentials, signal?: AbortSignal) => Promise<GrantedToken>
  now?: () => number
  /** How long a refused login is answered from memory instead of asking Auth0 again (default 30 s). */
  negativeTtlMs?: number
}

export interface TokenCacheStatus {
  cached: boolean
  expires_in: number | null
  obtained_at: string | null
  last_error: string | null
}

/** Login refusals answered from the negative cache: repeating them only brings Auth0's brute-force lockout closer. */
const REFUSALS = new Set(['v8_credentials_rejected', 'v8_audience_invalid', 'v8_access_denied', 'v8_login_blocked', 'v8_login_failed'])

/** sha256 over everything that decides which token we get; the password never leaves this hash. */
export function fingerprint (c: V8Credentials): string {
  return createHash('sha256').update(JSON.stringify([c.authUrl, c.clientId, c.audience, c.username, c.password])).digest('hex')
}

/** Renew this long before expiry: 60 s for real (24 h) tokens, a quarter of the lifetime for short-lived ones. */
export function skewMs (lifetimeMs: number): number {
  return lifetimeMs >= 240_000 ? 60_000 : Math.max(0, lifetimeMs / 4)
}

/**
 * When to stop handing out a token: expiry minus the skew, never later than expiry. A token read back from the
 * database has no known lifetime, so it gets the full 60 s skew (a short-lived one is then simply renewed).
 */
export function renewAt (t: { expiresAt: number; obtainedAt: number }): number {
  return t.expiresAt - (t.obtainedAt > 0 ? skewMs(t.expiresAt - t.obtainedAt) : 60_000)
}

export class TokenCache {
  readonly #lru: LRUCache<string, CachedToken, FetchContext>
  readonly #opts: Required<Omit<TokenCacheOptions, 'db'>>
  readonly #select
  readonly #upsert
  readonly #deleteAll
  readonly #deleteToken
  readonly #failures = new Map<string, { error: UpstreamError; until: number }>()
  /** Bumped by invalidate(): a login started under an older generation never stores its token. */
  #generation = 0
  #lastError: string | null = null

  constructor (opts: TokenCacheOptions) {
    this.#opts = { now: Date.now, negativeTtlMs: 30_000, ...opts }
    this.#select = opts.db.prepare<[string], { access_token: string; token_type: string; expires_at: number }>(
      'SELECT access_token, token_type, expires_at FROM token_cache WHERE fingerprint = ?'
    )
    this.#upsert = opts.db.prepare<[string, string, string, number]>(
      `INSERT INTO token_cache (fingerprint, access_token, token_type, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (fingerprint) DO UPDATE SET access_token = excluded.access_token, token_type = excluded.token_type, expires_at = excluded.expires_at`
    )
    this.#deleteAll = opts.db.prepare('DELETE FROM token_cache')
    this.#deleteToken = opts.db.prepare<[string]>('DELETE FROM token_cache WHERE access_token = ?')
    this.#lru = new LRUCache<string, CachedToken, FetchContext>({
      max: 8,
      // Concurrent fetch() calls for one key share this one promise: one login for N cold callers.
      fetchMethod: async (fp, _stale, { signal, options, context }) => {
        const token = await this.#obtain(fp, context, signal)
        if (!token) return undefined
        // The lru stops serving it at renewal time (clamped ≥ 1 ms); get() also checks expiry itself.
        options.ttl = Math.max(1, Math.floor(renewAt(token) - this.#opts.now()))
        return token
      },
      allowStale: false,
      noDeleteOnFetchRejection: false,
    })
  }

  /** A valid access token for the current credentials (one login shared by all concurrent callers). */
  async get (signal?: AbortSignal): Promise<string> {
    for (let round = 1; round <= 3; round++) {
      signal?.throwIfAborted()
      const generation = this.#generation
      const creds = this.#opts.credentials()
      const fp = fingerprint(creds)
      const failure = this.#failures.get(fp)
      if (failure && failure.until > this.#opts.now()) throw failure.error
      let token: CachedToken | undefined
      try {
        // The caller's signal is not handed to the shared login (one caller giving up must not fail the others).
        token = await raceAbort(this.#lru.fetch(fp, { context: { creds, generation } }), signal)
      } catch (err) {
        if (generation !== this.#generation) continue // credentials changed meanwhile: go again with the new ones
        throw err
      }
      if (token && token.expiresAt > this.#opts.now()) return token.token
      // Dropped by an invalidation while in flight, or (clock drift) past expiry: ask again.
      if (token && this.#lru.peek(fp) === token) this.#lru.delete(fp)
    }
    throw new UpstreamError('upstream_unavailable', 'Não foi possível obter um token da V8 (as credenciais mudaram durante o login); tente de novo.', 503, 'V8')
  }

  /** Drop a token the BFF just refused (401), unless another caller already replaced it. */
  invalidateToken (token: string): void {
    const fp = fingerprint(this.#opts.credentials())
    if (this.#lru.peek(fp)?.token === token) this.#lru.delete(fp)
    this.#deleteToken.run(token)
  }

  /**
   * Forget every token and refusal (new credentials saved): memory and rows go at once, and a login already
   * in flight (aborted by clear()) belongs to an old generation, so its result is never stored.
   */
  invalidate (): void {
    this.#generation++
    this.#lru.clear()
    this.#failures.clear()
    this.#deleteAll.run()
    this.#lastError = null
  }

  /** Same as invalidate() (the name the services wiring and the bench use). */
  invalidateAll (): void {
    this.invalidate()
  }

  status (): TokenCacheStatus {
    const fp = fingerprint(this.#opts.credentials())
    const now = this.#opts.now()
    const t = this.#lru.peek(fp) ?? this.#fromDb(fp)
    const failure = this.#failures.get(fp)
    const lastError = failure && failure.until > now ? failure.error.message : this.#lastError
    if (!t || t.expiresAt <= now) return { cached: false, expires_in: null, obtained_at: null, last_error: lastError }
    return {
      cached: true,
      expires_in: Math.floor((t.expiresAt - now) / 1000),
      obtained_at: t.obtainedAt > 0 ? new Date(t.obtainedAt).toISOString() : null,
      last_error: lastError,
    }
  }

  /** The persisted token when still good, else one login; stores the result only if nothing changed meanwhile. */
  async #obtain (fp: string, ctx: FetchContext, signal: AbortSignal): Promise<CachedToken | undefined> {
    if (ctx.generation !== this.#generation) return undefined
    const persisted = this.#fromDb(fp)
    if (persisted && renewAt(persisted) > this.#opts.now()) return persisted
    try {
      const granted = await this.#opts.login(ctx.creds, signal)
      const obtainedAt = this.#opts.now()
      const token: CachedToken = { token: granted.access_token, tokenType: granted.token_type, expiresAt: obtainedAt + granted.expires_in * 1000, obtainedAt }
      if (signal.aborted || ctx.generation !== this.#generation || fingerprint(this.#opts.credentials()) !== fp) {
        this.#opts.logger.info('v8 token for superseded credentials discarded')
        return undefined
      }
      this.#upsert.run(fp, token.token, token.tokenType, token.expiresAt)
      this.#lastError = null
      this.#opts.logger.info({ expires_in: granted.expires_in }, 'v8 token obtained')
      return token
    } catch (err) {
      if (ctx.generation === this.#generation) {
        if (err instanceof UpstreamError && REFUSALS.has(err.code)) {
          const ttl = err.code === 'v8_login_blocked' ? this.#opts.negativeTtlMs * 2 : this.#opts.negativeTtlMs
          this.#failures.set(fp, { error: err, until: this.#opts.now() + ttl })
        }
        this.#lastError = err instanceof Error ? err.message : String(err)
      }
      this.#opts.logger.warn({ code: (err as UpstreamError).code }, 'v8 login failed')
      throw err
    }
  }

  #fromDb (fp: string): CachedToken | undefined {
    const row = this.#select.get(fp)
    return row ? { token: row.access_token, tokenType: row.token_type, expiresAt: row.expires_at, obtainedAt: 0 } : undefined
  }
}
