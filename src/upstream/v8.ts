/**
 * V8 Digital BFF client: token, rate limit, one re-login on 401, tolerant zod-checked answers, no blind repeats of creations.
 * Over 300 lines on purpose: one method per V8 route, all sharing the same call/re-login/shape-check path.
 */
import type { FormData } from 'undici'
import type { z } from 'zod'
import type { TenantConfig } from '../config/schema.js'
import type { Logger } from '../log/logger.js'
import { UpstreamError, reasonOf, upstreamNotFound, upstreamRejected, upstreamUnavailable } from './errors.js'
import { rateLimited, type HttpClient, type HttpResponse } from './http-client.js'
import type { RateLimiter } from './rate-limiter.js'
import type { ShapeWarnings } from './shape-warnings.js'
import type { TokenCache } from './token-cache.js'
import { listOf, parseAnswer, parseItems, type ListForm } from './tolerant.js'
import { credentialsOf, passwordGrant } from './v8-auth.js'
import {
  clientDataSchema,
  configSchema,
  consultSchema,
  createdConsultSchema,
  operationSchema,
  pagesSchema,
  simulationSchema,
  type ClientData,
  type Consult,
  type Operation,
  type Simulation,
  type SimulationConfig,
} from './v8-schemas.js'

export type { ClientData, Consult, Operation, Simulation, SimulationConfig }

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
  /** Answers that did not match the known shapes are counted here (GET /health shows the total). */
  warnings: ShapeWarnings
  now?: () => number
}

export interface CallOptions {
  query?: Record<string, string | number | undefined>
  json?: unknown
  multipart?: FormData
  idempotent: boolean
  signal?: AbortSignal | undefined
}

export interface ConsultQuery {
  startDate?: string
  endDate?: string
  page?: number
  limit?: number
  /** CPF digits. */
  search?: string
  status?: string
}

export interface OperationQuery {
  startDate: string
  endDate: string
  page?: number
  limit?: number
  /** QI or CELCOIN; the tenant's V8_PROVIDER when absent. */
  provider?: string | undefined
}

/** Where each kind of listing keeps its rows: the attested forms, then other callers' guesses (accepted, warned). */
const CONSULT_LIST: { forms: ListForm[]; attested: ListForm[] } = { forms: ['data', '[]', 'items', 'consults'], attested: ['data'] }
const CONFIG_LIST: { forms: ListForm[]; attested: ListForm[] } = { forms: ['configs', '[]', 'data', 'items'], attested: ['configs', '[]'] }
const OPERATION_LIST: { forms: ListForm[]; attested: ListForm[] } = { forms: ['[]', 'data', 'items', 'operations'], attested: ['[]'] }

const CONFIGS_TTL_MS = 5 * 60_000
const MAX_LOOKUP_PAGES = 10
const CONSULT_EXISTS = 'consult_already_exists_by_user_and_document_number'
const ENDED = new Set(['REJECTED', 'FAILED'])

export class V8Client {
  readonly #o: Required<V8ClientOptions>
  /** Configs per V8 account (URL + login): another saved login does not see the previous one's tables. */
  #configs: { key: string; at: number; value: SimulationConfig[] } | undefined

  constructor (opts: V8ClientOptions) {
    this.#o = { now: Date.now, ...opts }
  }

  /** Try a login without caching or saving anything (the config page's "Testar conexão"). */
  async testLogin (username: string, password: string): Promise<{ expires_in: number; token_type: string }> {
    await this.#o.limiter.acquire()
    const t = await passwordGrant(this.#o.http, credentialsOf(this.#o.config(), { username, password }))
    return { expires_in: t.expires_in, token_type: t.token_type }
  }

  /**
   * Create a consult (term) — at most one active per CPF, and never sent twice by us. If V8 says one exists,
   * or the answer was lost (timeout, reset, 5xx, unreadable 2xx: it may have been created), look the CPF's active consult up
   * and return it. If the lookup finds none (or fails), the original error goes up: for a lost answer it is
   * `ambiguous`, and a later attempt is safe because V8 itself refuses a second active consult.
   */
  async createConsult (req: ConsultRequest, signal?: AbortSignal): Promise<{ id: string; status: string; reused: boolean }> {
    try {
      const body = await this.#call('POST', '/private-consignment/consult', { json: { ...req, provider: this.#o.config().V8_PROVIDER }, idempotent: false, signal })
      const created = this.#parse(createdConsultSchema, body, 'POST /private-consignment/consult')
      return { id: created.id, status: created.status ?? 'WAITING_CONSENT', reused: false }
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err
      const exists = err.code === CONSULT_EXISTS || err.code.startsWith('consult_already_exists')
      // A 2xx we could not read is a lost answer too: V8 did act.
      if (!exists && !err.ambiguous && err.code !== 'upstream_invalid_response') throw err
      let found: Consult | undefined
      try {
        // V8 names no id when it refuses: the active consult may be older than the usual 30 days (the older system's).
        found = exists ? await this.findActiveConsultByCpf(req.borrowerDocumentNumber, { signal }) : await this.findLatestConsultByCpf(req.borrowerDocumentNumber, { signal })
      } catch (lookupErr) {
        this.#o.logger.warn({ code: (lookupErr as UpstreamError).code }, 'v8 consult lookup after a failed creation failed too')
        throw err
      }
      if (found && !ENDED.has(found.status)) {
        this.#o.logger.info({ consult: found.id, reason: exists ? 'already_exists' : 'ambiguous_failure' }, 'v8 consult reused')
        return { id: found.id, status: found.status, reused: true }
      }
      throw err
    }
  }

  /**
   * Authorize a consult. Any 2xx is success (V8 answers the text "Successful response"). "Already approved" is
   * success too, and so is any other refusal of a consult that is no longer waiting for consent (callers saw a
   * bare 400 when authorizing twice): the consult is read back to tell which.
   */
  async authorizeConsult (id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#call('POST', `/private-consignment/consult/${encodeURIComponent(id)}/authorize`, { json: {}, idempotent: true, signal })
    } catch (err) {
      if (!(err instanceof UpstreamError) || err.statusCode !== 422) throw err
      if (err.code === 'consult_already_approved') return
      const now = await this.getConsult(id, signal)
      if (now.status !== 'WAITING_CONSENT') return
      throw err
    }
  }

  /** One consult; `v8_not_found` (404) when V8 does not know it. */
  async getConsult (id: string, signal?: AbortSignal): Promise<Consult> {
    const body = await this.#call('GET', `/private-consignment/consult/${encodeURIComponent(id)}`, { idempotent: true, signal })
    return this.#parse(consultSchema, body, 'GET /private-consignment/consult/:id')
  }

  /**
   * One page of consults, newest first. `hasNext` comes from `pages` when V8 sends it (undefined otherwise: then a
   * page shorter than the limit is the last). A row we cannot read is skipped and counted, never the whole page.
   */
  async listConsults (q: ConsultQuery, signal?: AbortSignal): Promise<{ rows: Consult[]; hasNext: boolean | undefined }> {
    const route = 'GET /private-consignment/consult'
    const body = await this.#call('GET', '/private-consignment/consult', {
      query: { startDate: q.startDate, endDate: q.endDate, limit: q.limit ?? 100, page: q.page ?? 1, provider: this.#o.config().V8_PROVIDER, search: q.search, status: q.status },
      idempotent: true,
      signal,
    })
    const ctx = { upstream: 'V8' as const, route, warnings: this.#o.warnings }
    const list = listOf(body, { ...ctx, ...CONSULT_LIST })
    const rows = parseItems(list.items, consultSchema, { ...ctx, path: list.path })
    const pages = pagesSchema.safeParse((body as Record<string, unknown> | null)?.['pages'])
    return { rows, hasNext: pages.success ? (pages.data?.hasNext ?? undefined) : undefined }
  }

  /**
   * The CPF's newest consult created since `since` (default: the last `days`, 30 by default), or undefined.
   * Searches by CPF digits, keeps only rows whose documentNumber is this CPF, newest first.
   */
  async findLatestConsultByCpf (cpf: string, opts: { since?: number | undefined; days?: number; signal?: AbortSignal | undefined } = {}): Promise<Consult | undefined> {
    const now = this.#o.now()
    const start = opts.since ?? now - (opts.days ?? 30) * 86_400_000
    return (await this.#consultsOfCpf(cpf, start, now + 60_000, opts.signal))[0]
  }

  /**
   * The CPF's newest consult that is not ended (REJECTED/FAILED), looked for in 30-day windows going back up to
   * `windows` of them (a year by default): V8 refuses a new consult while one is active, however old it is. Short
   * windows, because no caller was seen listing a longer range.
   */
  async findActiveConsultByCpf (cpf: string, opts: { windows?: number; signal?: AbortSignal | undefined } = {}): Promise<Consult | undefined> {
    const window = 30 * 86_400_000
    let end = this.#o.now() + 60_000
    for (let i = 0; i < (opts.windows ?? 12); i++, end -= window) {
      const active = (await this.#consultsOfCpf(cpf, end - window, end, opts.signal)).find((c) => !ENDED.has(c.status))
      if (active) return active
    }
    return undefined
  }

  /** The CPF's consults created between `start` and `end` (ms), newest first. */
  async #consultsOfCpf (cpf: string, start: number, end: number, signal?: AbortSignal): Promise<Consult[]> {
    const digits = cpf.replace(/\D/g, '')
    const range = { startDate: new Date(start).toISOString(), endDate: new Date(end).toISOString(), search: digits, limit: 100 }
    const mine: Consult[] = []
    for (let page = 1; page <= MAX_LOOKUP_PAGES; page++) {
      const { rows, hasNext } = await this.listConsults({ ...range, page }, signal)
      mine.push(...rows.filter((c) => c.documentNumber === undefined || c.documentNumber.replace(/\D/g, '') === digits))
      if (hasNext === false || rows.length === 0 || (hasNext === undefined && rows.length < range.limit)) break
    }
    // V8 lists newest first; sorted again in case a page boundary or a clock skew says otherwise.
    return mine.sort((a, b) => Date.parse(b.createdAt ?? '0') - Date.parse(a.createdAt ?? '0'))
  }

  /**
   * What V8 knows of the person (name, birth date, e-mail, phone, sometimes gender), or undefined when it does not
   * know the CPF (any refusal: no caller saw what an unknown CPF answers). Transient trouble is thrown.
   */
  async clientData (cpf: string, signal?: AbortSignal): Promise<ClientData | undefined> {
    const digits = cpf.replace(/\D/g, '')
    try {
      const body = await this.#call('GET', `/private-consignment/consult/client-data/basic/${digits}`, { idempotent: true, signal })
      if (body === undefined || body === null || body === '') return undefined
      return this.#parse(clientDataSchema, body, 'GET /private-consignment/consult/client-data/basic/:cpf')
    } catch (err) {
      if (err instanceof UpstreamError && (err.statusCode === 404 || err.statusCode === 422)) return undefined
      throw err
    }
  }

  /** Simulation configs (rates and installment counts), cached for a few minutes. */
  async simulationConfigs (signal?: AbortSignal): Promise<SimulationConfig[]> {
    const c = this.#o.config()
    const key = `${c.V8_API_URL}|${c.V8_USERNAME}|${c.V8_PROVIDER}`
    if (this.#configs?.key === key && this.#o.now() - this.#configs.at < CONFIGS_TTL_MS) return this.#configs.value
    const route = 'GET /private-consignment/simulation/configs'
    const body = await this.#call('GET', '/private-consignment/simulation/configs', { idempotent: true, signal })
    const ctx = { upstream: 'V8' as const, route, warnings: this.#o.warnings }
    const list = listOf(body, { ...ctx, ...CONFIG_LIST })
    const value = parseItems(list.items, configSchema, { ...ctx, path: list.path })
    this.#configs = { key, at: this.#o.now(), value }
    return value
  }

  /**
   * One simulation (a quote, not a contract). Never repeated by the client: V8 has no way to look a lost one up,
   * so an ambiguous failure (timeout, reset, 5xx) goes up as a transient UpstreamError with `ambiguous: true`;
   * the caller may simulate again later (worst case V8 holds an extra quote or answers `simulation_already_exists`).
   */
  async simulate (req: SimulationRequest, signal?: AbortSignal): Promise<Simulation> {
    const body = await this.#call('POST', '/private-consignment/simulation', { json: { ...req, provider: this.#o.config().V8_PROVIDER }, idempotent: false, signal })
    return this.#parse(simulationSchema, body, 'POST /private-consignment/simulation')
  }

  /** One page of operations: a bare array of rows (wrapped forms accepted); an odd row is skipped and counted. */
  async listOperations (q: OperationQuery, signal?: AbortSignal): Promise<Operation[]> {
    const route = 'GET /private-consignment/operation'
    const body = await this.#call('GET', '/private-consignment/operation', {
      query: { startDate: q.startDate, endDate: q.endDate, limit: q.limit ?? 50, page: q.page ?? 1, provider: q.provider ?? this.#o.config().V8_PROVIDER },
      idempotent: true,
      signal,
    })
    const ctx = { upstream: 'V8' as const, route, warnings: this.#o.warnings }
    const list = listOf(body, { ...ctx, ...OPERATION_LIST })
    return parseItems(list.items, operationSchema, { ...ctx, path: list.path, idKeys: ['operationId', 'id'] })
  }

  /**
   * One BFF call for the sibling modules (v8-operations.ts): token, rate limit, one re-login on 401, errors mapped.
   * `idempotent: false` calls are sent exactly once.
   */
  send (method: 'GET' | 'POST' | 'PATCH', path: string, opts: CallOptions): Promise<unknown> {
    return this.#call(method, path, opts)
  }

  #parse<T extends z.ZodType> (schema: T, body: unknown, route: string): z.output<T> {
    return parseAnswer(schema, body, { upstream: 'V8', route, warnings: this.#o.warnings })
  }

  /** Token, rate limit, send; a 401 drops the token and repeats the call once with a fresh login. */
  async #call (method: 'GET' | 'POST' | 'PATCH', path: string, opts: CallOptions): Promise<unknown> {
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
        ...(opts.multipart !== undefined ? { multipart: opts.multipart } : {}),
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

  #result (res: HttpResponse, route: string): unknown {
    if (res.status >= 200 && res.status < 300) return res.body
    const { type, text } = reasonOf(res.body, `HTTP ${res.status}`)
    if (res.status === 401) throw new UpstreamError('v8_unauthorized', `A V8 recusou o token duas vezes (${route}): ${text}`, 502, 'V8', { rota: route, motivo: text })
    if (res.status === 404) throw upstreamNotFound('V8', route, text)
    if (res.status === 429) throw rateLimited('V8', route, res)
    if (res.status >= 500) throw upstreamUnavailable('V8', route, `HTTP ${res.status}: ${text}`)
    throw upstreamRejected('V8', route, res.status, type, text)
  }
}
