/**
 * V8 operations (proposals) and webhook registration, over V8Client.send: create (sent once, never repeated), detail,
 * lookup by CPF, cancel, the pendency actions (payment data, documents, re-presentation), the banks list.
 */
import type { TenantConfig } from '../config/schema.js'
import { UpstreamError } from './errors.js'
import type { ShapeWarnings } from './shape-warnings.js'
import { listOf, parseAnswer, parseItems } from './tolerant.js'
import { bankSchema, createdOperationSchema, operationDetailSchema, type Bank, type CreatedOperation, type OperationDetail } from './v8-operation-schemas.js'
import { loadUndici } from './undici-lazy.js'
import type { Operation, V8Client } from './v8.js'

export type { Bank, CreatedOperation, OperationDetail }
export { OPERATION_STATUSES, type OperationStatus } from './v8-operation-schemas.js'

export type WebhookKind = 'consult' | 'operation'

export type PixKeyType = 'cpf' | 'email' | 'phone' | 'random'
export type BankData =
  | { transfer_method: 'pix'; pix_key: string; pix_key_type: PixKeyType }
  | { transfer_method: 'ted'; bank_id: string; bank_code: string; branch_number: string; account_number: string; account_digit: string }

/** The borrower of POST /operation, snake_case as the six callers that agree send it. */
export interface OperationBorrower {
  name: string
  email: string
  phone: { country_code: '55'; area_code: string; number: string }
  political_exposition: boolean
  address: { street: string; number: string; complement: string; neighborhood: string; city: string; state: string; postal_code: string }
  birth_date: string
  mother_name: string
  nationality: string
  document_issuer: string
  gender: 'male' | 'female'
  person_type: 'natural'
  marital_status: 'single' | 'married' | 'divorced' | 'widowed'
  individual_document_number: string
  document_identification_date: string
  document_identification_type: 'rg' | 'cnh'
  document_identification_number: string
  bank: BankData
  work_data?: { employer_name: string; employer_document_number: string; registration_number: string }
}

export interface CreateOperationRequest {
  simulation_id: string
  borrower: OperationBorrower
}

/** The document types V8 accepts on an operation (the one caller that uploads calls them official). */
export const DOCUMENT_TYPES = ['identification_front', 'identification_back', 'address_proof', 'paycheck', 'selfie', 'other'] as const
export type DocumentType = (typeof DOCUMENT_TYPES)[number]

const BANKS_TTL_MS = 60 * 60_000
const ROUTE = {
  create: 'POST /private-consignment/operation',
  detail: 'GET /private-consignment/operation/:id',
  banks: 'GET /banks',
} as const

export class V8Operations {
  #banks: { at: number; key: string; value: Bank[] } | undefined

  constructor (
    private readonly v8: Pick<V8Client, 'send' | 'listOperations'>,
    private readonly config: () => TenantConfig,
    private readonly warnings: ShapeWarnings,
    private readonly now: () => number = Date.now
  ) {}

  /** POST /user/webhook/private-consignment/{kind} `{url}`: any 2xx is success (no caller reads the answer). */
  async registerWebhook (kind: WebhookKind, url: string, signal?: AbortSignal): Promise<void> {
    await this.v8.send('POST', `/user/webhook/private-consignment/${kind}`, { json: { url }, idempotent: true, signal })
  }

  /**
   * Create an operation from an approved simulation. Sent exactly once: a lost answer (timeout, reset, 5xx) goes up
   * as an `ambiguous` UpstreamError and the caller looks the CPF's operations up (findByCpf) before trying again.
   * `provider` goes along (UPSTREAM.md's form; callers that omit it rely on the simulation's).
   */
  async create (req: CreateOperationRequest, signal?: AbortSignal): Promise<CreatedOperation> {
    const body = await this.v8.send('POST', '/private-consignment/operation', {
      json: { simulation_id: req.simulation_id, provider: this.config().V8_PROVIDER, borrower: req.borrower },
      idempotent: false,
      signal,
    })
    const unwrapped = body && typeof body === 'object' && !Array.isArray(body) && 'data' in body && !('id' in body) ? (body as { data: unknown }).data : body
    const created = parseAnswer(createdOperationSchema, unwrapped, { upstream: 'V8', route: ROUTE.create, warnings: this.warnings })
    if (created.variant || unwrapped !== body) {
      this.warnings.warn({ upstream: 'V8', route: ROUTE.create, action: 'variant_accepted', problems: [{ path: unwrapped !== body ? 'data' : 'id', problem: 'operation id under another key or wrapped' }] })
    }
    return created
  }

  /** GET /operation/{id}: the snake_case detail (a `data{}` wrapper, one caller's guess, is accepted). */
  async get (id: string, signal?: AbortSignal): Promise<OperationDetail> {
    const body = await this.v8.send('GET', `/private-consignment/operation/${encodeURIComponent(id)}`, { idempotent: true, signal })
    const unwrapped = body && typeof body === 'object' && 'data' in body && !('id' in body) ? (body as { data: unknown }).data : body
    return parseAnswer(operationDetailSchema, unwrapped, { upstream: 'V8', route: ROUTE.detail, warnings: this.warnings })
  }

  /**
   * The CPF's operations created since `since` (ms), newest first, from the list (paged, 100 a page, at most 10
   * pages): how a lost create answer is recovered without sending the creation again.
   */
  async findByCpf (cpf: string, since: number, signal?: AbortSignal): Promise<Operation[]> {
    const digits = cpf.replace(/\D/g, '')
    const range = { startDate: new Date(since).toISOString(), endDate: new Date(this.now() + 60_000).toISOString(), limit: 100 }
    const mine: Operation[] = []
    for (let page = 1; page <= 10; page++) {
      const rows = await this.v8.listOperations({ ...range, page }, signal)
      mine.push(...rows.filter((o) => (o.documentNumber ?? '').replace(/\D/g, '') === digits))
      if (rows.length < range.limit) break
    }
    return mine.sort((a, b) => Date.parse(b.createdAt ?? '0') - Date.parse(a.createdAt ?? '0'))
  }

  /** POST /operation/{id}/cancel `{cancel_reason, cancel_description, provider}`; the only reason seen is invalid_data:other. */
  async cancel (id: string, reason: { cancel_reason: string; cancel_description: string }, signal?: AbortSignal): Promise<void> {
    await this.v8.send('POST', `/private-consignment/operation/${encodeURIComponent(id)}/cancel`, {
      json: { ...reason, provider: this.config().V8_PROVIDER },
      idempotent: false,
      signal,
    })
  }

  /** PATCH /operation/{id}/pendency/payment-data `{bank}`: new PIX or account data for a `pending` operation. */
  async paymentData (id: string, bank: BankData, signal?: AbortSignal): Promise<void> {
    await this.v8.send('PATCH', `/private-consignment/operation/${encodeURIComponent(id)}/pendency/payment-data`, { json: { bank }, idempotent: true, signal })
  }

  /** POST /operation/{id}/document, multipart `type` + `file`. */
  async uploadDocument (id: string, doc: { type: DocumentType; fileName: string; contentType: string; data: Buffer }, signal?: AbortSignal): Promise<void> {
    const { FormData } = await loadUndici()
    const form = new FormData()
    form.set('type', doc.type)
    form.set('file', new Blob([new Uint8Array(doc.data)], { type: doc.contentType }), doc.fileName)
    await this.v8.send('POST', `/private-consignment/operation/${encodeURIComponent(id)}/document`, { multipart: form, idempotent: false, signal })
  }

  /** PATCH /operation/{id}/pendency/presentation (no body): re-present the operation once its pendencies are solved. */
  async present (id: string, signal?: AbortSignal): Promise<void> {
    await this.v8.send('PATCH', `/private-consignment/operation/${encodeURIComponent(id)}/pendency/presentation`, { idempotent: true, signal })
  }

  /** GET /banks (`{data:[…]}`, a bare array accepted), cached for an hour per V8 account. */
  async banks (signal?: AbortSignal): Promise<Bank[]> {
    const c = this.config()
    const key = `${c.V8_API_URL}|${c.V8_USERNAME}`
    if (this.#banks?.key === key && this.now() - this.#banks.at < BANKS_TTL_MS) return this.#banks.value
    const body = await this.v8.send('GET', '/banks', { idempotent: true, signal })
    const ctx = { upstream: 'V8' as const, route: ROUTE.banks, warnings: this.warnings }
    const list = listOf(body, { ...ctx, forms: ['data', '[]', 'banks', 'items'], attested: ['data'] })
    const value = parseItems(list.items, bankSchema, { ...ctx, path: list.path })
    this.#banks = { at: this.now(), key, value }
    return value
  }

  /** The `bank_id` of a bank code (TED needs both); a 422 when V8 does not list the code. */
  async bankId (code: string, signal?: AbortSignal): Promise<string> {
    const wanted = code.replace(/\D/g, '').padStart(3, '0')
    const bank = (await this.banks(signal)).find((b) => b.code === wanted)
    if (!bank) throw new UpstreamError('banco_desconhecido', `A V8 não lista o banco de código ${wanted}.`, 422, 'V8', { campo: 'conta.banco' })
    return bank.id
  }
}
