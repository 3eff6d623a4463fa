/** Kentro CRM (AtenderBem) client: POST {base}/<method> with {queueId, apiKey, …}; reads retried, writes not. */
import { z } from 'zod'
import type { TenantConfig } from '../config/schema.js'
import { kentroConfigured } from '../config/schema.js'
import { UpstreamError, notConfigured, reasonOf, upstreamInvalidResponse, upstreamNotFound, upstreamRejected, upstreamUnavailable } from './errors.js'
import { rateLimited, type HttpClient } from './http-client.js'
import { OpportunityIndex } from './kentro-index.js'

export const opportunitySchema = z
  .object({
    id: z.union([z.number(), z.string()]).transform(String),
    title: z.string().nullish().transform((v) => v ?? ''),
    mainphone: z.union([z.string(), z.number()]).nullish().transform((v) => (v === null || v === undefined ? '' : String(v))),
    mainmail: z.union([z.string(), z.number()]).nullish().transform((v) => (v === null || v === undefined ? '' : String(v))),
    fkPipeline: z.coerce.number().nullish(),
    fkStage: z.coerce.number().nullish(),
    status: z.unknown().optional(),
    value: z.unknown().optional(),
    description: z.string().nullish(),
    createdAt: z.string().nullish(),
    tags: z.array(z.coerce.number()).nullish().transform((v) => v ?? []),
    formsdata: z
      .union([z.record(z.string(), z.unknown()), z.array(z.unknown()), z.null()])
      .optional()
      .transform((v): Record<string, unknown> => (v && !Array.isArray(v) ? v : {})),
  })
  .passthrough()
export type Opportunity = z.output<typeof opportunitySchema>

export class KentroClient {
  readonly #index: OpportunityIndex<Opportunity>

  constructor (
    private readonly http: HttpClient,
    private readonly config: () => TenantConfig,
    now: () => number = Date.now
  ) {
    this.#index = new OpportunityIndex<Opportunity>({
      list: (pipelineId) => this.#list(pipelineId),
      get: (id, signal) => this.getOpportunity(id, signal),
      cpfOf: cpfInMainmail,
      now,
    })
  }

  get configured (): boolean {
    return kentroConfigured(this.config())
  }

  async getPipeOpportunities (pipelineId: number, signal?: AbortSignal): Promise<Opportunity[]> {
    const scope = this.#scope()
    const list = await this.#list(pipelineId, signal)
    this.#index.remember(pipelineId, scope, list)
    return list
  }

  async #list (pipelineId: number, signal?: AbortSignal): Promise<Opportunity[]> {
    const body = await this.#call('getPipeOpportunities', { pipelineId }, true, signal)
    const r = z.array(opportunitySchema).safeParse(body)
    if (!r.success) throw upstreamInvalidResponse('Kentro', 'getPipeOpportunities', 'esperava uma lista de oportunidades')
    return r.data
  }

  /** Which Kentro account the index belongs to (kept in memory only, like the key itself). */
  #scope (): string {
    const c = this.config()
    return `${c.KENTRO_API_URL}\n${c.KENTRO_QUEUE_ID ?? ''}\n${c.KENTRO_API_KEY}`
  }

  /** One opportunity; `kentro_not_found` (404) when Kentro does not know it. */
  async getOpportunity (id: string, signal?: AbortSignal): Promise<Opportunity> {
    const body = await this.#call('getOpportunity', { id: Number(id) || id }, true, signal)
    const r = opportunitySchema.safeParse(Array.isArray(body) ? body[0] : body)
    if (!r.success) throw upstreamInvalidResponse('Kentro', 'getOpportunity', 'oportunidade em formato inesperado')
    return r.data
  }

  /**
   * The open opportunity whose mainmail holds this CPF (any formatting), searching KENTRO_PIPELINE_IDS in order.
   * Served by the pipeline index (kentro-index.ts): one fresh getOpportunity on a hit, the pipelines listed again on a miss.
   */
  async findOpportunityByCpf (cpf: string, signal?: AbortSignal): Promise<Opportunity | undefined> {
    const c = this.#configured()
    return this.#index.find(cpf.replace(/\D/g, ''), c.KENTRO_PIPELINE_IDS, this.#scope(), signal)
  }

  /** Not repeated on an ambiguous failure: the caller looks the CPF up (findOpportunityByCpf) before trying again. */
  async createOpportunity (fields: Record<string, unknown>, signal?: AbortSignal): Promise<string> {
    const body = await this.#call('createOpportunity', fields, false, signal)
    const id = (body as { id?: unknown } | undefined)?.id
    if (id === undefined) throw upstreamInvalidResponse('Kentro', 'createOpportunity', 'id ausente')
    return String(id)
  }

  /** Writes the same fields again on retry, so repeating it is safe; still not retried blindly by the transport. */
  async updateOpportunity (id: string, fields: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    await this.#call('updateOpportunity', { id: Number(id) || id, ...fields }, false, signal)
  }

  async changeOpportunityStage (id: string, destStageId: number, signal?: AbortSignal): Promise<void> {
    await this.#call('changeOpportunityStage', { id: Number(id) || id, destStageId }, false, signal)
  }

  #configured (): TenantConfig {
    const c = this.config()
    if (!kentroConfigured(c)) {
      throw notConfigured('Kentro', 'kentro_not_configured', 'defina KENTRO_API_URL, KENTRO_API_KEY e KENTRO_QUEUE_ID.')
    }
    return c
  }

  async #call (method: string, fields: Record<string, unknown>, idempotent: boolean, signal?: AbortSignal): Promise<unknown> {
    const c = this.#configured()
    const res = await this.http.send({
      upstream: 'Kentro',
      method: 'POST',
      url: `${c.KENTRO_API_URL.replace(/\/+$/, '')}/${method}`,
      route: method,
      json: { queueId: c.KENTRO_QUEUE_ID, apiKey: c.KENTRO_API_KEY, ...fields },
      idempotent,
      ...(signal ? { signal } : {}),
    })
    if (res.status >= 200 && res.status < 300) return res.body
    const { type, text } = reasonOf(res.body, `HTTP ${res.status}`)
    if (res.status === 401 || res.status === 403) {
      throw new UpstreamError('kentro_credentials_rejected', `O Kentro recusou a chave de API (KENTRO_API_KEY): ${text}`, 502, 'Kentro', { rota: method, motivo: text })
    }
    if (res.status === 404) throw upstreamNotFound('Kentro', method, text)
    if (res.status === 429) throw rateLimited('Kentro', method, res)
    if (res.status >= 500) throw upstreamUnavailable('Kentro', method, `HTTP ${res.status}: ${text}`)
    throw upstreamRejected('Kentro', method, res.status, type, text)
  }
}

/** The CPF digits a mainmail holds ("123.456.789-01", "12345678901", or a number that lost its leading zeros). */
export function cpfInMainmail (mainmail: string): string {
  const v = mainmail.trim()
  const digits = v.replace(/\D/g, '')
  return /^\d{9,10}$/.test(v) ? digits.padStart(11, '0') : digits
}
