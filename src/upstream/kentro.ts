/** Kentro CRM (AtenderBem) client: POST {base}/<method> with {queueId, apiKey, …}; reads retried, writes not; any 2xx of a write is success. */
import type { TenantConfig } from '../config/schema.js'
import { kentroConfigured } from '../config/schema.js'
import { UpstreamError, notConfigured, reasonOf, upstreamInvalidResponse, upstreamNotFound, upstreamRejected, upstreamUnavailable } from './errors.js'
import { rateLimited, type HttpClient, type HttpResponse } from './http-client.js'
import { OpportunityIndex } from './kentro-index.js'
import { cpfCandidates, opportunitySchema, type Opportunity } from './kentro-opportunity.js'
import type { ShapeWarnings } from './shape-warnings.js'
import { listOf, parseAnswer, parseItems } from './tolerant.js'

export { cpfCandidates, FORM_KEYS, formValue, opportunitySchema, type Opportunity } from './kentro-opportunity.js'

/** What a merged update changes: plain fields replace, form values and tags are merged into what the CRM holds. */
export interface OpportunityChanges {
  fields?: Record<string, unknown>
  formsdata?: Record<string, string>
  addTags?: readonly number[]
}

/** A vendor code such as AUTH_018, QUEUE_008 or OPP_002 anywhere in an error body (its wording is not known). */
export function kentroCode (body: unknown): string | undefined {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '')
  return /\b([A-Z]{2,10}_\d{3})\b/.exec(text)?.[1]
}

/** `first` (e.g. a batch's own pipeline), then KENTRO_PIPELINE_IDS, each once. */
export function pipelinesToSearch (config: TenantConfig, first: readonly number[] = []): number[] {
  return [...new Set([...first, ...config.KENTRO_PIPELINE_IDS])]
}

export class KentroClient {
  readonly #index: OpportunityIndex<Opportunity>

  constructor (
    private readonly http: HttpClient,
    private readonly config: () => TenantConfig,
    private readonly warnings: ShapeWarnings,
    now: () => number = Date.now
  ) {
    this.#index = new OpportunityIndex<Opportunity>({
      list: (pipelineId) => this.#list(pipelineId),
      get: (id, signal) => this.getOpportunity(id, signal),
      cpfsOf: cpfCandidates,
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

  /** Open opportunities of a pipeline: a bare array (wrapped forms other callers guess are accepted, warned); odd items skipped. */
  async #list (pipelineId: number, signal?: AbortSignal): Promise<Opportunity[]> {
    const body = await this.#call('getPipeOpportunities', { pipelineId }, true, signal)
    const ctx = { upstream: 'Kentro' as const, route: 'getPipeOpportunities', warnings: this.warnings }
    const list = listOf(body, { ...ctx, forms: ['[]', 'data', 'opportunities', 'results'], attested: ['[]'] })
    return parseItems(list.items, opportunitySchema, { ...ctx, path: list.path })
  }

  /** Which Kentro account the index belongs to (kept in memory only, like the key itself). */
  #scope (): string {
    const c = this.config()
    return `${c.KENTRO_API_URL}\n${c.KENTRO_QUEUE_ID ?? ''}\n${c.KENTRO_API_KEY}`
  }

  /** One opportunity (open or closed); `kentro_not_found` (404) when Kentro does not know it (OPP_002). */
  async getOpportunity (id: string, signal?: AbortSignal): Promise<Opportunity> {
    const body = await this.#call('getOpportunity', { id: Number(id) || id }, true, signal)
    return parseAnswer(opportunitySchema, Array.isArray(body) ? body[0] : body, { upstream: 'Kentro', route: 'getOpportunity', warnings: this.warnings })
  }

  /**
   * The open opportunity holding this CPF in KENTRO_PIPELINE_IDS (searched in order): in `mainmail` (any formatting,
   * lost leading zeros restored), else the form's CPF field, else a title that is the CPF. Several in one
   * pipeline → the newest. Served by the pipeline index (kentro-index.ts). `first`: pipelines searched before those.
   */
  async findOpportunityByCpf (cpf: string, signal?: AbortSignal, first?: readonly number[]): Promise<Opportunity | undefined> {
    const c = this.#configured()
    return this.#index.find(cpf.replace(/\D/g, ''), pipelinesToSearch(c, first), this.#scope(), signal)
  }

  /** Not repeated on an ambiguous failure: the caller looks the CPF up (findOpportunityByCpf) before trying again. */
  async createOpportunity (fields: Record<string, unknown>, signal?: AbortSignal): Promise<string> {
    const body = await this.#call('createOpportunity', fields, false, signal)
    const id = (body as { id?: unknown } | undefined)?.id
    if (id === undefined) throw upstreamInvalidResponse('Kentro', 'createOpportunity', 'id ausente')
    return String(id)
  }

  /** A raw write. Kentro replaces `tags` (and maybe `formsdata`) wholesale: use mergeIntoOpportunity to add to them. */
  async updateOpportunity (id: string, fields: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    await this.#call('updateOpportunity', { id: Number(id) || id, ...fields }, false, signal)
  }

  /**
   * Read, merge, write: the opportunity is read fresh, `addTags` joins its tags and `formsdata` its form values, and
   * the whole lists go back (updateOpportunity replaces tags; whether it replaces formsdata is unknown, so it gets
   * the full object). Repeating it writes the same values, so a retry by the caller is safe.
   */
  async mergeIntoOpportunity (id: string, changes: OpportunityChanges, signal?: AbortSignal): Promise<void> {
    const update: Record<string, unknown> = { ...changes.fields }
    const addTags = changes.addTags ?? []
    const forms = changes.formsdata ?? {}
    if (addTags.length > 0 || Object.keys(forms).length > 0) {
      const current = await this.getOpportunity(id, signal)
      if (addTags.length > 0) update['tags'] = [...new Set([...current.tags, ...addTags])]
      if (Object.keys(forms).length > 0) update['formsdata'] = { ...current.formsdata, ...forms }
    }
    await this.updateOpportunity(id, update, signal)
  }

  /** The bare changeOpportunityStage call (any 2xx is taken; changeOpportunityStage below checks that it happened). */
  async requestStageChange (id: string, destStageId: number, signal?: AbortSignal): Promise<void> {
    await this.#call('changeOpportunityStage', { id: Number(id) || id, destStageId }, false, signal)
  }

  /**
   * Move the opportunity to `destStageId` and read it back: Kentro's 2xx does not prove the move (a stage of another
   * pipeline is answered 2xx and nothing changes; the older system re-lists and warns when fkStage differs, after
   * asking once more). Still elsewhere after a second try → a refusal naming the stage it stayed in.
   */
  async changeOpportunityStage (id: string, destStageId: number, signal?: AbortSignal): Promise<void> {
    let stayed: number | null | undefined
    for (let attempt = 1; attempt <= 2; attempt++) {
      await this.requestStageChange(id, destStageId, signal)
      stayed = (await this.getOpportunity(id, signal)).fkStage
      if (stayed === destStageId) return
    }
    throw new UpstreamError(
      'kentro_etapa_nao_aplicada',
      `O Kentro aceitou mover a oportunidade ${id} para a etapa ${destStageId}, mas ela continua na etapa ${stayed ?? 'desconhecida'} (a etapa pode ser de outro funil: veja KENTRO_STAGE_BY_PIPELINE).`,
      502,
      'Kentro',
      { oportunidade_id: id, etapa_pedida: destStageId, etapa_atual: stayed ?? null }
    )
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
      // A disabled queue answers 503 QUEUE_008 every time: retrying it only delays the answer.
      retryable: (r) => !kentroCode(r.body)?.startsWith('QUEUE_'),
      ...(signal ? { signal } : {}),
    })
    if (res.status >= 200 && res.status < 300) return res.body
    throw this.#error(method, res)
  }

  #error (method: string, res: HttpResponse): UpstreamError {
    const code = kentroCode(res.body)
    const { type, text } = reasonOf(res.body, `HTTP ${res.status}`)
    const details = { rota: method, motivo: text, ...(code ? { codigo_kentro: code } : {}) }
    if (code?.startsWith('AUTH_') || res.status === 401 || res.status === 403) {
      // AUTH_018 wrong key (or a queue key on a global method); AUTH_001/014/021 instance blocked, API off, IP refused.
      return new UpstreamError('kentro_credentials_rejected', `O Kentro recusou a chave de API ou a fila (KENTRO_API_KEY, KENTRO_QUEUE_ID): ${text}`, 502, 'Kentro', details)
    }
    if (code?.startsWith('QUEUE_')) {
      return new UpstreamError('kentro_queue_disabled', `A fila do Kentro (KENTRO_QUEUE_ID) está desativada: ${text}`, 502, 'Kentro', details)
    }
    if (code === 'OPP_002' || res.status === 404) return upstreamNotFound('Kentro', method, text)
    if (res.status === 429) return rateLimited('Kentro', method, res)
    if (res.status >= 500) return upstreamUnavailable('Kentro', method, `HTTP ${res.status}: ${text}`)
    return upstreamRejected('Kentro', method, res.status, code ?? type, text)
  }
}
