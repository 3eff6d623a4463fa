/**
 * PresençaBank's login: one token shared by every call (single-flight), kept until expireAt (optional; a naive ISO is
 * UTC; ~9 h assumed without it) and renewed on 401. A WRONG PASSWORD answers HTTP 500: a 500 to credentials that never
 * worked in this process is "login recusado", answered from memory for a minute instead of being sent again.
 */
import { createHash } from 'node:crypto'
import type { TenantConfig } from '../config/schema.js'
import type { Logger } from '../log/logger.js'
import { UpstreamError, upstreamUnavailable } from './errors.js'
import { rateLimited, type HttpClient } from './http-client.js'
import type { Pacer } from './pacer.js'
import { loginSchema, reasonText } from './presenca-schemas.js'
import type { ShapeWarnings } from './shape-warnings.js'
import { parseAnswer } from './tolerant.js'

/** Token lifetime assumed when the login has no usable expireAt (callers saw ~10 h; a 401 renews it anyway). */
export const DEFAULT_TOKEN_MS = 9 * 3_600_000
const SKEW_MS = 60_000
/** How long a refused login is answered from memory (saving new credentials clears it). */
const REFUSED_TTL_MS = 60_000
const ROUTE = 'POST /login'

export interface PresencaLoginDeps {
  http: HttpClient
  config: () => TenantConfig
  warnings: ShapeWarnings
  pacer: Pacer
  now: () => number
  logger?: Pick<Logger, 'info' | 'warn'> | undefined
  /** Records a failure as the integration's last error (and returns it). */
  fail: (err: UpstreamError) => UpstreamError
  /** A login worked: the last error is history. */
  ok: () => void
}

/** ISO with or without an offset (a naive one is UTC); NaN when unreadable. */
export function parseExpireAt (v: string): number {
  const s = v.trim()
  const naive = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)
  return Date.parse(naive ? `${s.replace(' ', 'T')}Z` : s)
}

export class PresencaLogin {
  readonly #d: PresencaLoginDeps
  #token: { value: string; until: number; expiresAt: number } | undefined
  #inFlight: Promise<string> | undefined
  #refused: { error: UpstreamError; until: number } | undefined
  /** Credential fingerprints that logged in at least once in this process (tells a wrong password from an outage). */
  readonly #worked = new Set<string>()
  /** Bumped by invalidate(): a login started before it does not store its token. */
  #generation = 0

  constructor (deps: PresencaLoginDeps) {
    this.#d = deps
  }

  /** The token and its remaining lifetime, and a refusal still answered from memory. */
  state (): { tokenCached: boolean; expiresIn: number | null; refused: string | null } {
    const now = this.#d.now()
    const t = this.#token && this.#token.expiresAt > now ? this.#token : undefined
    return {
      tokenCached: t !== undefined,
      expiresIn: t ? Math.floor((t.expiresAt - now) / 1000) : null,
      refused: this.#refused && this.#refused.until > now ? this.#refused.error.message : null,
    }
  }

  /** Forget the token and any refusal (credentials changed). */
  invalidate (): void {
    this.#generation++
    this.#token = undefined
    this.#inFlight = undefined
    this.#refused = undefined
  }

  /** Drop a token PresençaBank refused (401), unless another call already replaced it. */
  drop (token: string): void {
    if (this.#token?.value === token) this.#token = undefined
  }

  /** A new login now (the config page's check); a refusal of the last minute is answered from memory. */
  async fresh (): Promise<void> {
    this.#token = undefined
    await this.token(undefined)
  }

  /** A valid token: the cached one, else one login shared by every concurrent caller. */
  async token (signal: AbortSignal | undefined): Promise<string> {
    const now = this.#d.now()
    if (this.#token && this.#token.until > now) return this.#token.value
    if (this.#refused && this.#refused.until > now) throw this.#refused.error
    signal?.throwIfAborted()
    // No caller's signal on the shared login: one caller giving up must not fail the others.
    this.#inFlight ??= this.#login(this.#generation).finally(() => {
      this.#inFlight = undefined
    })
    return this.#inFlight
  }

  #fingerprint (): string {
    const c = this.#d.config()
    return createHash('sha256').update(JSON.stringify([c.PRESENCABANK_URL, c.PRESENCABANK_LOGIN, c.PRESENCABANK_PASSWORD])).digest('hex')
  }

  async #login (generation: number): Promise<string> {
    const c = this.#d.config()
    const fp = this.#fingerprint()
    await this.#d.pacer.acquire()
    const res = await this.#d.http.send({
      upstream: 'PresençaBank',
      method: 'POST',
      url: `${c.PRESENCABANK_URL.replace(/\/+$/, '')}/login`,
      route: ROUTE,
      json: { login: c.PRESENCABANK_LOGIN, senha: c.PRESENCABANK_PASSWORD },
      // Never repeated: a refused login sent in a loop only gets the account blocked.
      idempotent: false,
    }).catch((err: unknown) => {
      throw err instanceof UpstreamError ? this.#d.fail(err) : err
    })
    if (res.status >= 200 && res.status < 300) {
      const t = parseAnswer(loginSchema, res.body, { upstream: 'PresençaBank', route: ROUTE, warnings: this.#d.warnings })
      const now = this.#d.now()
      const parsed = t.expireAt ? parseExpireAt(t.expireAt) : NaN
      // A missing, unreadable or already-past expireAt (clock skew) gets the assumed lifetime.
      const expiresAt = Number.isFinite(parsed) && parsed > now + SKEW_MS ? parsed : now + DEFAULT_TOKEN_MS
      if (generation === this.#generation) {
        this.#token = { value: t.token, until: expiresAt - SKEW_MS, expiresAt }
        this.#worked.add(fp)
        this.#d.ok()
      }
      this.#d.logger?.info({ expires_in: Math.floor((expiresAt - now) / 1000), expire_at_sent: t.expireAt !== undefined && t.expireAt !== null }, 'presencabank login')
      return t.token
    }
    if (res.status === 429) throw this.#d.fail(rateLimited('PresençaBank', ROUTE, res))
    const reason = reasonText(res.body, `HTTP ${res.status}`)
    // 502/503/504 come from Azure's front door: an outage. A 500 is how PresençaBank answers a WRONG PASSWORD, so it
    // is a refusal, unless these very credentials have logged in before in this process (then it is an outage).
    if (res.status >= 502 || (res.status === 500 && this.#worked.has(fp))) {
      throw this.#d.fail(upstreamUnavailable('PresençaBank', ROUTE, `HTTP ${res.status}: ${reason}`))
    }
    const hint = res.status === 500 ? ' (o PresençaBank responde HTTP 500 a login ou senha errados)' : ''
    const error = new UpstreamError(
      'presencabank_login_recusado',
      `Login recusado pelo PresençaBank${hint}: confira PRESENCABANK_LOGIN e PRESENCABANK_PASSWORD em /config-v8. Resposta: ${reason}`,
      502,
      'PresençaBank',
      { rota: ROUTE, status_upstream: res.status, motivo: reason }
    )
    if (generation === this.#generation) this.#refused = { error, until: this.#d.now() + REFUSED_TTL_MS }
    this.#d.logger?.warn({ status: res.status }, 'presencabank login refused')
    throw this.#d.fail(error)
  }
}
