/** V8 Digital BFF client: token, rate limit, one re-login on 401, zod-checked answers, no blind repeats of creations. */
import type { z } from 'zod'
import type { TenantConfig } from '../config/schema.js'
import type { Logger } from '../log/logger.js'
import { UpstreamError, reasonOf, upstreamInvalidResponse, upstreamRejected, upstreamUnavailable } from './errors.js'
import type { HttpClient, HttpResponse } from './http-client.js'
import type { RateLimiter } from './rate-limiter.js'
import type { TokenCache } from './token-cache.js'
import { credentialsOf, passwordGrant } from './v8-auth.js'
import {
  configsSchema,
  consultListSchema,
  consultSchema,
  createdConsultSchema,
  operationsSchema,
  simulationSchema,
  type Consult,
  type Operation,
  type Simulation,
  type SimulationConfig,
} from './v8-schemas.js'

export type { Consult, Operation, Simulation, SimulationConfig }

export interface ConsultRequest {
  borrowerDocumentNumber: string
  gender: 'male' | 'female'
  birthDate: string
  signerName: string
  signerEmail: string
  signerPhone: { phoneNumber: string; countryCode: '55'; areaCode: string }
}

export interface SimulationRequest {
  consult_id: string
  config_id: string
  number_of_installments: number
  installment_face_value?: number
  disbursed_amount?: number
}

export interface V8ClientOptions {
  http: HttpClient
  tokens: TokenCache
  limiter: RateLimiter
  config: () => TenantConfig
  logger: Logger
  now?: () => number
}

interface CallOptions {
  query?: Record<string, string | number | undefined>
  json?: unknown
  idempotent: boolean
  signal?: AbortSignal | undefined
}

const CONFIGS_TTL_MS = 5 * 60_000

export class V8Client {
  readonly #o: Required<V8ClientOptions>
  #configs: { at: number; value: SimulationConfig[] } | undefined

  constructor(opts: V8ClientOptions) {
    this.#o = { now: Date.now, ...opts }
  }

  /** Try a login without caching or saving anything (the config page's "Testar conexão"). */
  async testLogin(username: string, password: string): Promise<{ expires_in: number; token_type: string }> {
    await this.#o.limiter.acquire()
    const t = await passwordGrant(this.#o.http, credentialsOf(this.#o.config(), { username, password }))
    return { expires_in: t.expires_in, token_type: t.token_type }
  }

  /**
   * Create a consult (term) — at most one per CPF. If V8 says one exists, or the answer was lost
   * (timeout, reset, 5xx), look the CPF's consult up instead of sending the creation again.
   */
  async createConsult(req: ConsultRequest, signal?: AbortSignal): Promise<{ id: string; status: string; reused: boolean }> {
    const startedAt = this.#o.now()
    try {
      const body = await this.#call('POST', '/private-consignment/consult', { json: { ...req, provider: this.#o.config().V8_PROVIDER }, idempotent: false, signal })
      const created = parse(createdConsultSchema, body, 'POST /private-consignment/consult')
      return { ...created, reused: false }
    } catch (err) {
      const exists = err instanceof UpstreamError && err.code === 'consult_already_exists_by_user_and_document_number'
      if (!exists && !(err instanceof UpstreamError && err.ambiguous)) throw err
      const found = await this.findLatestConsultByCpf(req.borrowerDocumentNumber, { since: exists ? undefined : startedAt - 60_000, signal })
      if (found && !['REJECTED', 'FAILED'].includes(found.status)) {
        this.#o.logger.info({ consult: found.id, reason: exists ? 'already_exists' : 'ambiguous_failure' }, 'v8 consult reused')
        return { id: found.id, status: found.status, reused: true }
      }
      throw err
    }
  }

  /** Authorize a consult; "already approved" is success, so a retry is harmless. */
  async authorizeConsult(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#call('POST', `/private-consignment/consult/${encodeURIComponent(id)}/authorize`, { json: {}, idempotent: true, signal })
    } catch (err) {
      if (err instanceof UpstreamError && err.code === 'consult_already_approved') return
      throw err
    }
  }

  async getConsult(id: string, signal?: AbortSignal): Promise<Consult> {
    const body = await this.#call('GET', `/private-consignment/consult/${encodeURIComponent(id)}`, { idempotent: true, signal })
    return parse(consultSchema, body, 'GET /private-consignment/consult/:id')
  }

  async listConsults(q: { startDate: string; endDate: string; page?: number; limit?: number; search?: string; status?: string }, signal?: AbortSignal): Promise<Consult[]> {
    const body = await this.#call('GET', '/private-consignment/consult', {
      query: { startDate: q.startDate, endDate: q.endDate, limit: q.limit ?? 100, page: q.page ?? 1, provider: this.#o.config().V8_PROVIDER, search: q.search, status: q.status },
      idempotent: true,
      signal,
    })
    return parse(consultListSchema, body, 'GET /private-consignment/consult').data
  }

  /** The CPF's newest consult in the last `days` (default 30), or undefined. */
  async findLatestConsultByCpf(cpf: string, opts: { since?: number | undefined; days?: number; signal?: AbortSignal | undefined } = {}): Promise<Consult | undefined> {
    const now = this.#o.now()
    const start = opts.since ?? now - (opts.days ?? 30) * 86_400_000
    const range = { startDate: new Date(start).toISOString(), endDate: new Date(now + 60_000).toISOString(), search: cpf }
    for (let page = 1; page <= 20; page++) {
      const rows = await this.listConsults({ ...range, page }, opts.signal)
      const mine = rows.filter((c) => (c.documentNumber ?? cpf).replace(/\D/g, '') === cpf)
      if (mine.length > 0) return mine.sort((a, b) => Date.parse(b.createdAt ?? '0') - Date.parse(a.createdAt ?? '0'))[0]
      if (rows.length === 0) return undefined
    }
    return undefined
  }

  /** Simulation configs (rates and installment counts), cached for a few minutes. */
  async simulationConfigs(signal?: AbortSignal): Promise<SimulationConfig[]> {
    if (this.#configs && this.#o.now() - this.#configs.at < CONFIGS_TTL_MS) return this.#configs.value
    const body = await this.#call('GET', '/private-consignment/simulation/configs', { idempotent: true, signal })
    const value = parse(configsSchema, body, 'GET /private-consignment/simulation/configs')
    this.#configs = { at: this.#o.now(), value }
    return value
  }

  /** A simulation is a quote, not a contract; still, it is not repeated blindly: an ambiguous failure goes up. */
  async simulate(req: SimulationRequest, signal?: AbortSignal): Promise<Simulation> {
    const body = await this.#call('POST', '/private-consignment/simulation', { json: { ...req, provider: this.#o.config().V8_PROVIDER }, idempotent: false, signal })
    return parse(simulationSchema, body, 'POST /private-consignment/simulation')
  }

  async listOperations(q: { startDate: string; endDate: string; page?: number; limit?: number }, signal?: AbortSignal): Promise<Operation[]> {
    const body = await this.#call('GET', '/private-consignment/operation', {
      query: { startDate: q.startDate, endDate: q.endDate, limit: q.limit ?? 50, page: q.page ?? 1, provider: this.#o.config().V8_PROVIDER },
      idempotent: true,
      signal,
    })
    return parse(operationsSchema, body, 'GET /private-consignment/operation')
  }

  async #call(method: 'GET' | 'POST', path: string, opts: CallOptions): Promise<unknown> {
    const route = `${method} ${path.replace(/\/[0-9a-f-]{8,}(?=\/|$)/gi, '/:id')}`
    for (let attempt = 1; ; attempt++) {
      const token = await this.#o.tokens.get(opts.signal)
      await this.#o.limiter.acquire(opts.signal)
      const url = new URL(path, this.#o.config().V8_API_URL.replace(/\/?$/, '/'))
      for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v))
      const res = await this.#o.http.send({
        upstream: 'V8',
        method,
        url: url.toString(),
        route,
        headers: { authorization: `Bearer ${token}` },
        idempotent: opts.idempotent,
        ...(opts.json !== undefined ? { json: opts.json } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      })
      if (res.status === 401 && attempt === 1) {
        // The token was revoked or expired early: drop it and try once more with a fresh login.
        this.#o.tokens.invalidateToken(token)
        continue
      }
      return this.#result(res, route)
    }
  }

  #result(res: HttpResponse, route: string): unknown {
    if (res.status >= 200 && res.status < 300) return res.body
    const { type, text } = reasonOf(res.body, `HTTP ${res.status}`)
    if (res.status === 401) throw new UpstreamError('v8_nao_autorizado', `A V8 recusou o token duas vezes (${route}): ${text}`, 502, 'V8', { motivo: text })
    if (res.status === 404) throw new UpstreamError('v8_nao_encontrado', `A V8 não encontrou o recurso (${route}): ${text}`, 404, 'V8', { motivo: text })
    if (res.status >= 500) throw upstreamUnavailable('V8', route, `HTTP ${res.status}: ${text}`)
    throw upstreamRejected('V8', route, res.status, type, text)
  }
}

function parse<T extends z.ZodType>(schema: T, body: unknown, route: string): z.output<T> {
  const r = schema.safeParse(body)
  if (!r.success) throw upstreamInvalidResponse('V8', route, r.error.issues.map((i) => `${i.path.join('.') || '(raiz)'}: ${i.message}`).slice(0, 3).join('; '))
  return r.data
}
