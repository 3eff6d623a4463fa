/** PresençaBank client (optional per tenant): own single-flight login cache (expireAt), ~30 requests/min, term → vínculos → margem. */
import { z } from 'zod'
import type { TenantConfig } from '../config/schema.js'
import { presencaConfigured } from '../config/schema.js'
import { UpstreamError, notConfigured, reasonOf, upstreamInvalidResponse, upstreamNotFound, upstreamRejected, upstreamUnavailable } from './errors.js'
import { rateLimited, type HttpClient } from './http-client.js'
import { RateLimiter } from './rate-limiter.js'

const loginSchema = z.object({ token: z.string().min(1), expireAt: z.string().optional() })
const termSchema = z.object({ autorizacaoId: z.union([z.string(), z.number()]).transform(String), shortUrl: z.string().optional() })
const vinculosSchema = z.object({
  id: z.array(
    z
      .object({
        matricula: z.union([z.string(), z.number()]).transform(String),
        numeroInscricaoEmpregador: z.union([z.string(), z.number()]).transform(String),
        elegivel: z.boolean().optional(),
      })
      .passthrough()
  ),
})
const margemSchema = z.object({ valorMargemDisponivel: z.coerce.number(), valorMargemBase: z.coerce.number().optional() }).passthrough()

export type Vinculo = z.output<typeof vinculosSchema>['id'][number]
export type Margem = z.output<typeof margemSchema>

export interface PresencaClientOptions {
  /** Calls per minute (default 30, PresençaBank's documented limit). */
  perMinute?: number
  /** How long a refused login is answered from memory (default 30 s). */
  negativeTtlMs?: number
}

/** Token lifetime assumed when the login answer has no usable expireAt. */
const DEFAULT_TOKEN_MS = 30 * 60_000
/** Renew this long before expireAt. */
const SKEW_MS = 60_000

export class PresencaClient {
  #token: { value: string; until: number } | undefined
  #login: Promise<string> | undefined
  #refused: { error: UpstreamError; until: number } | undefined
  /** Bumped by invalidate(): a login started before it does not store its token. */
  #generation = 0
  readonly #limiter: RateLimiter
  readonly #negativeTtlMs: number

  constructor (
    private readonly http: HttpClient,
    private readonly config: () => TenantConfig,
    private readonly now: () => number = Date.now,
    opts: PresencaClientOptions = {}
  ) {
    this.#limiter = new RateLimiter({ limit: opts.perMinute ?? 30, windowMs: 60_000 })
    this.#negativeTtlMs = opts.negativeTtlMs ?? 30_000
  }

  get configured (): boolean {
    return presencaConfigured(this.config())
  }

  /** Drop the cached login and any remembered refusal (credentials changed). */
  invalidate (): void {
    this.#generation++
    this.#token = undefined
    this.#login = undefined
    this.#refused = undefined
  }

  /** Ask for the borrower's INSS authorization term (creates one: not repeated on an ambiguous failure). */
  async requestTerm (p: { cpf: string; nome: string; telefone: string; produtoId: number }, signal?: AbortSignal): Promise<{ autorizacaoId: string; shortUrl?: string }> {
    return this.#parse(termSchema, await this.#call('/consultas/termo-inss', p, false, signal), 'termo-inss')
  }

  /** The CPF's employment links (needs a signed term, else `termo_invalido_ou_ausente`). */
  async vinculos (cpf: string, signal?: AbortSignal): Promise<Vinculo[]> {
    return this.#parse(vinculosSchema, await this.#call('/v3/operacoes/consignado-privado/consultar-vinculos', { cpf }, true, signal), 'consultar-vinculos').id
  }

  async margem (p: { cpf: string; matricula: string; cnpj: string }, signal?: AbortSignal): Promise<Margem> {
    return this.#parse(margemSchema, await this.#call('/v3/operacoes/consignado-privado/consultar-margem', p, true, signal), 'consultar-margem')
  }

  async #bearer (signal: AbortSignal | undefined): Promise<string> {
    const now = this.now()
    if (this.#token && this.#token.until > now) return this.#token.value
    if (this.#refused && this.#refused.until > now) throw this.#refused.error
    signal?.throwIfAborted()
    // Single-flight: concurrent callers share one login (no caller's signal: one giving up must not fail the rest).
    this.#login ??= this.#doLogin(this.#generation).finally(() => {
      this.#login = undefined
    })
    return this.#login
  }

  async #doLogin (generation: number): Promise<string> {
    const c = this.config()
    await this.#limiter.acquire()
    const res = await this.http.send({
      upstream: 'PresençaBank',
      method: 'POST',
      url: `${this.#base()}/login`,
      route: 'login',
      json: { login: c.PRESENCABANK_LOGIN, senha: c.PRESENCABANK_PASSWORD },
      idempotent: false,
    })
    if (res.status === 429) throw rateLimited('PresençaBank', 'login', res)
    if (res.status >= 500) throw upstreamUnavailable('PresençaBank', 'login', `HTTP ${res.status}: ${reasonOf(res.body, '').text}`)
    if (res.status < 200 || res.status >= 300) {
      const { text } = reasonOf(res.body, `HTTP ${res.status}`)
      const error = new UpstreamError('presenca_credentials_rejected', `O PresençaBank recusou o login: ${text}`, 502, 'PresençaBank', { rota: 'login', motivo: text })
      if (generation === this.#generation) this.#refused = { error, until: this.now() + this.#negativeTtlMs }
      throw error
    }
    const t = this.#parse(loginSchema, res.body, 'login')
    const exp = t.expireAt ? Date.parse(t.expireAt) : NaN
    const expiresAt = Number.isNaN(exp) ? this.now() + DEFAULT_TOKEN_MS : exp
    const lifetime = expiresAt - this.now()
    if (generation === this.#generation) this.#token = { value: t.token, until: expiresAt - Math.min(SKEW_MS, lifetime / 4) }
    return t.token
  }

  #base (): string {
    return this.config().PRESENCABANK_URL.replace(/\/+$/, '')
  }

  async #call (path: string, json: unknown, idempotent: boolean, signal?: AbortSignal): Promise<unknown> {
    if (!this.configured) throw notConfigured('PresençaBank', 'presenca_not_configured', 'defina PRESENCABANK_URL, PRESENCABANK_LOGIN e PRESENCABANK_PASSWORD.')
    for (let attempt = 1; ; attempt++) {
      const token = await this.#bearer(signal)
      await this.#limiter.acquire(signal)
      const res = await this.http.send({
        upstream: 'PresençaBank',
        method: 'POST',
        url: `${this.#base()}${path}`,
        route: path,
        headers: { authorization: `Bearer ${token}` },
        json,
        idempotent,
        ...(signal ? { signal } : {}),
      })
      if (res.status === 401 && attempt === 1) {
        // Expired or revoked early: drop it (unless already replaced) and try once more with a fresh login.
        if (this.#token?.value === token) this.#token = undefined
        continue
      }
      if (res.status >= 200 && res.status < 300) return res.body
      const { type, text } = reasonOf(res.body, `HTTP ${res.status}`)
      if (res.status === 404) throw upstreamNotFound('PresençaBank', path, text)
      if (res.status === 429) throw rateLimited('PresençaBank', path, res)
      if (res.status >= 500) throw upstreamUnavailable('PresençaBank', path, `HTTP ${res.status}: ${text}`)
      throw upstreamRejected('PresençaBank', path, res.status, type, text)
    }
  }

  #parse<T extends z.ZodType>(schema: T, body: unknown, route: string): z.output<T> {
    const r = schema.safeParse(body)
    if (!r.success) throw upstreamInvalidResponse('PresençaBank', route, r.error.issues[0]?.message ?? 'formato inválido')
    return r.data
  }
}
