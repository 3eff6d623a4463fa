/**
 * PresençaBank client (optional per tenant): the shared login (presenca-login.ts), evenly paced calls, and the four
 * calls of the eligibility check: create the consult term, sign it, list employment links, read a link's margin.
 * Over 300 lines on purpose: one method per PresençaBank route over one paced, re-login-aware call path.
 */
import type { TenantConfig } from '../config/schema.js'
import { presencaConfigured } from '../config/schema.js'
import type { Logger } from '../log/logger.js'
import { sleep } from './abort.js'
import { UpstreamError, upstreamInvalidResponse, upstreamNotFound, upstreamRejected, upstreamUnavailable } from './errors.js'
import { rateLimited, type HttpClient, type HttpResponse } from './http-client.js'
import { Pacer } from './pacer.js'
import { PresencaLogin } from './presenca-login.js'
import {
  classify,
  isZeroedGlitch,
  marginItem,
  reasonText,
  termSchema,
  toMargem,
  vinculoSchema,
  type Margem,
  type PresencaRefusal,
  type Vinculo,
} from './presenca-schemas.js'
import type { ShapeWarnings } from './shape-warnings.js'
import { listOf, parseAnswer, parseItems } from './tolerant.js'

export type { Margem, Vinculo }
export { PacingWait } from './pacer.js'
export { DEFAULT_TOKEN_MS, parseExpireAt } from './presenca-login.js'

/** PresençaBank's only product id for the CLT private payroll loan. */
export const PRODUTO_CLT = 28
/** The header every caller sends on the signing call. */
const SIGN_TENANT_ID = 'superuser'
/** How long the login's consult quota ("Limite de consulta") is answered from memory before asking again. */
const QUOTA_TTL_MS = 15 * 60_000

const VINCULOS = '/v3/operacoes/consignado-privado/consultar-vinculos'
const MARGEM = '/v3/operacoes/consignado-privado/consultar-margem'
const TERMO = '/consultas/termo-inss'

export interface PresencaClientOptions {
  http: HttpClient
  config: () => TenantConfig
  warnings: ShapeWarnings
  logger?: Pick<Logger, 'info' | 'warn'>
  now?: () => number
  /** The pacer's wait (tests pass one that moves their clock). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Deadline of the links and margin calls (default 30 s: a CPF without eSocial data answers after about 15 s). */
  timeoutMs?: number
}

/** Per call: the caller's signal and how long it can afford to wait for a pacing slot. */
export interface CallOptions {
  signal?: AbortSignal | undefined
  maxWaitMs?: number | undefined
}

type SendOptions = CallOptions & { json: unknown; idempotent: boolean; headers?: Record<string, string>; timeoutMs?: number }

export interface PresencaStatus {
  configured: boolean
  token_cached: boolean
  expires_in: number | null
  last_error: string | null
  last_error_at: string | null
  per_minute: number
  /** Calls waiting for their pacing slot now. */
  waiting: number
}

/** What a signing call ended as: signed, or the known 500 after which the term works. */
export type SignResult = 'assinado' | 'erro_conhecido'

const REFUSAL_STATUS: Record<PresencaRefusal, number> = {
  termo_nao_autorizado: 422,
  cpf_nao_encontrado: 422,
  virada_de_folha: 422,
  limite_de_consulta: 503,
  telefone_em_uso: 422,
  margem_insuficiente: 422,
}

const REFUSAL_TEXT: Record<PresencaRefusal, string> = {
  termo_nao_autorizado: 'o termo de autorização ainda não está assinado/válido',
  cpf_nao_encontrado: 'CPF não encontrado na base do Crédito do Trabalhador',
  virada_de_folha: 'virada de competência da folha; consulte de novo em alguns dias',
  limite_de_consulta: 'o login atingiu o limite de consultas do PresençaBank',
  telefone_em_uso: 'o telefone já foi usado em termo de outro cliente; informe o celular do próprio cliente',
  margem_insuficiente: 'margem insuficiente',
}

export class PresencaClient {
  readonly #o: Required<Omit<PresencaClientOptions, 'logger'>> & { logger: PresencaClientOptions['logger'] }
  readonly #pacer: Pacer
  readonly #login: PresencaLogin
  #quota: { error: UpstreamError; until: number } | undefined
  #lastError: { message: string; at: number } | null = null

  constructor (opts: PresencaClientOptions) {
    this.#o = { now: Date.now, sleep, timeoutMs: 30_000, ...opts, logger: opts.logger }
    this.#pacer = new Pacer({ perMinute: () => this.#o.config().PRESENCABANK_MAX_RPM, now: this.#o.now, sleep: this.#o.sleep })
    this.#login = new PresencaLogin({
      http: this.#o.http,
      config: this.#o.config,
      warnings: this.#o.warnings,
      pacer: this.#pacer,
      now: this.#o.now,
      logger: this.#o.logger,
      fail: (err) => this.#fail(err),
      ok: () => { this.#lastError = null },
    })
  }

  get configured (): boolean {
    return presencaConfigured(this.#o.config())
  }

  /** How long a call asked for now would wait for its pacing slot. */
  pacingDelayMs (): number {
    return this.#pacer.delayMs()
  }

  status (): PresencaStatus {
    const login = this.#login.state()
    return {
      configured: this.configured,
      token_cached: login.tokenCached,
      expires_in: login.expiresIn,
      last_error: login.refused ?? this.#lastError?.message ?? null,
      last_error_at: this.#lastError ? new Date(this.#lastError.at).toISOString() : null,
      per_minute: this.#o.config().PRESENCABANK_MAX_RPM,
      waiting: this.#pacer.waiting,
    }
  }

  /** Drop the cached login and any remembered refusal (credentials changed). */
  invalidate (): void {
    this.#login.invalidate()
    this.#quota = undefined
    this.#lastError = null
  }

  /**
   * A fresh login with the saved credentials (the config page's check); the token is kept for the next calls. A
   * refusal within the last minute is answered from memory (saving new credentials clears it).
   */
  async testLogin (): Promise<{ expires_in: number }> {
    this.#assertConfigured()
    await this.#login.fresh()
    return { expires_in: this.status().expires_in ?? 0 }
  }

  /**
   * Create the borrower's consult term. Never repeated here: a lost answer may have created it, and PresençaBank
   * has no way to look a term up, so the caller records the attempt and checks the CPF's links before another.
   */
  async createTerm (p: { cpf: string; nome: string; telefone: string }, opts: CallOptions = {}): Promise<{ autorizacaoId: string; shortUrl: string | null }> {
    const body = await this.#call('POST', TERMO, 'POST /consultas/termo-inss', { json: { cpf: p.cpf, nome: p.nome, telefone: p.telefone, produtoId: PRODUTO_CLT }, idempotent: false, ...opts })
    const t = parseAnswer(termSchema, body, this.#ctx('POST /consultas/termo-inss'))
    return { autorizacaoId: t.autorizacaoId, shortUrl: t.shortUrl ?? null }
  }

  /**
   * Sign the term as the signing page does (PUT with the device information and `tenant-id: superuser`). The known
   * 500 "An error ocurred" leaves a usable term: reported as `erro_conhecido`. Refusals are `presencabank_assinatura_recusada`.
   */
  async signTerm (autorizacaoId: string, opts: CallOptions = {}): Promise<SignResult> {
    const route = 'PUT /consultas/termo-inss/:id'
    const res = await this.#send('PUT', `${TERMO}/${encodeURIComponent(autorizacaoId)}`, route, {
      json: this.#deviceInfo(),
      headers: { 'tenant-id': SIGN_TENANT_ID },
      // Sent once: the known 500 must not be repeated, and the flow re-signs on its next run if it must.
      idempotent: false,
      ...opts,
    })
    if (res.status >= 200 && res.status < 300) return 'assinado'
    if (res.status === 500 && /an error oc+ur+ed/i.test(reasonText(res.body, ''))) {
      this.#o.logger?.info('presencabank term signing answered the known 500; the term is usable')
      return 'erro_conhecido'
    }
    try {
      this.#result(res, route)
    } catch (err) {
      if (err instanceof UpstreamError && err.statusCode === 422) {
        throw new UpstreamError('presencabank_assinatura_recusada', `O PresençaBank recusou a assinatura do termo: ${String(err.details?.['motivo'] ?? err.message)}`, 422, 'PresençaBank', err.details)
      }
      throw err
    }
    throw upstreamInvalidResponse('PresençaBank', route, `HTTP ${res.status}`)
  }

  /** The CPF's employment links; refusals come classified (`presencabank_termo_nao_autorizado`, `presencabank_cpf_nao_encontrado`, …). */
  async vinculos (cpf: string, opts: CallOptions = {}): Promise<Vinculo[]> {
    const route = 'POST /v3/operacoes/consignado-privado/consultar-vinculos'
    const body = await this.#call('POST', VINCULOS, route, { json: { cpf }, idempotent: true, timeoutMs: this.#o.timeoutMs, ...opts })
    const ctx = this.#ctx(route)
    const list = listOf(body, { ...ctx, forms: ['id', 'vinculos', 'data', '[]'], attested: ['id'] })
    return parseItems(list.items, vinculoSchema, { ...ctx, path: list.path, idKeys: [] }).map((v) => ({
      matricula: v.matricula,
      numeroInscricaoEmpregador: v.numeroInscricaoEmpregador,
      elegivel: v.elegivel ?? null,
    }))
  }

  /**
   * A link's margin, from the OBJECT or the ARRAY form (first item). `matricula` and `cnpj` are sent exactly as the
   * link gave them. An all-zero answer without dates is a glitch callers retry: `presencabank_margem_indisponivel` (503).
   */
  async margem (p: { cpf: string; matricula: string; cnpj: string }, opts: CallOptions = {}): Promise<Margem> {
    const route = 'POST /v3/operacoes/consignado-privado/consultar-margem'
    const body = await this.#call('POST', MARGEM, route, { json: { cpf: p.cpf, matricula: p.matricula, cnpj: p.cnpj }, idempotent: true, timeoutMs: this.#o.timeoutMs, ...opts })
    const ctx = this.#ctx(route)
    const item = Array.isArray(body) ? body[0] : body
    const margem = toMargem(parseAnswer(marginItem, item, ctx), Array.isArray(body) ? 'lista' : 'objeto')
    if (isZeroedGlitch(margem)) {
      throw new UpstreamError('presencabank_margem_indisponivel', 'O PresençaBank devolveu a margem zerada e sem dados (instabilidade conhecida); tente de novo em instantes.', 503, 'PresençaBank', { rota: route })
    }
    return margem
  }

  #ctx (route: string): { upstream: 'PresençaBank'; route: string; warnings: ShapeWarnings } {
    return { upstream: 'PresençaBank', route, warnings: this.#o.warnings }
  }

  #deviceInfo (): Record<string, unknown> {
    const c = this.#o.config()
    const [lat, lon] = c.PRESENCABANK_GEOLOCATION ? c.PRESENCABANK_GEOLOCATION.split(',').map((x) => x.trim()) : ['0', '0']
    return {
      userAgent: `clt-v8 (servidor do correspondente ${c.TENANT_NAME})`,
      OperationalSystem: process.platform,
      DeviceModel: 'Server',
      DeviceName: c.TENANT_NAME,
      DeviceType: 'Backend',
      GeoLocation: { Latitude: lat, Longitude: lon },
    }
  }

  #assertConfigured (): void {
    if (!this.configured) {
      throw new UpstreamError('presencabank_nao_configurado', 'O PresençaBank não está configurado nesta porta: defina PRESENCABANK_LOGIN e PRESENCABANK_PASSWORD em /config-v8.', 409, 'PresençaBank')
    }
  }

  #fail (err: UpstreamError): UpstreamError {
    this.#lastError = { message: err.message, at: this.#o.now() }
    return err
  }

  #base (): string {
    return this.#o.config().PRESENCABANK_URL.replace(/\/+$/, '')
  }

  async #call (method: 'POST' | 'PUT', path: string, route: string, o: SendOptions): Promise<unknown> {
    return this.#result(await this.#send(method, path, route, o), route)
  }

  /** Configured check, quota memory, token, pacing slot, send; a 401 drops the token and repeats the call once. */
  async #send (method: 'POST' | 'PUT', path: string, route: string, o: SendOptions): Promise<HttpResponse> {
    this.#assertConfigured()
    const now = this.#o.now()
    if (this.#quota && this.#quota.until > now && path !== TERMO) throw this.#quota.error
    for (let attempt = 1; ; attempt++) {
      const token = await this.#login.token(o.signal)
      await this.#pacer.acquire({ signal: o.signal, maxWaitMs: o.maxWaitMs })
      const res = await this.#o.http.send({
        upstream: 'PresençaBank',
        method,
        url: `${this.#base()}${path}`,
        route,
        headers: { authorization: `Bearer ${token}`, ...o.headers },
        json: o.json,
        idempotent: o.idempotent,
        ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      }).catch((err: unknown) => {
        throw err instanceof UpstreamError ? this.#fail(err) : err
      })
      if (res.status === 401 && attempt === 1) {
        // Expired or revoked early: drop it (unless already replaced) and try once more with a fresh login.
        this.#login.drop(token)
        continue
      }
      // An answer (even a business refusal) means PresençaBank works again: the last failure is history.
      if (res.status < 500 && res.status !== 429 && res.status !== 401) this.#lastError = null
      return res
    }
  }

  #result (res: HttpResponse, route: string): unknown {
    if (res.status >= 200 && res.status < 300) return res.body
    const reason = reasonText(res.body, `HTTP ${res.status}`)
    if (res.status === 401) {
      throw this.#fail(new UpstreamError('presencabank_nao_autorizado', `O PresençaBank recusou o token duas vezes (${route}): ${reason}`, 502, 'PresençaBank', { rota: route, motivo: reason }))
    }
    if (res.status === 429) throw this.#fail(rateLimited('PresençaBank', route, res))
    if (res.status >= 500) throw this.#fail(upstreamUnavailable('PresençaBank', route, `HTTP ${res.status}: ${reason}`))
    const found = classify(res.status, res.body)
    // A bare 403 on the term creation is a login without that permission, not an unsigned term.
    const kind = found === 'termo_nao_autorizado' && res.status === 403 && route === 'POST /consultas/termo-inss' ? undefined : found
    if (kind) {
      const error = new UpstreamError(`presencabank_${kind}`, `${REFUSAL_TEXT[kind]} (PresençaBank: ${reason})`, REFUSAL_STATUS[kind], 'PresençaBank', {
        rota: route,
        status_upstream: res.status,
        motivo: reason,
      })
      if (kind === 'limite_de_consulta') this.#quota = { error: this.#fail(error), until: this.#o.now() + QUOTA_TTL_MS }
      throw error
    }
    if (res.status === 404) throw upstreamNotFound('PresençaBank', route, reason)
    throw upstreamRejected('PresençaBank', route, res.status, undefined, reason)
  }
}
