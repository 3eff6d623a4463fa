/** Batches (lotes) for one tenant: create from a CPF list or a Kentro pipeline, read, cancel; owns the workers. */
import { randomUUID } from 'node:crypto'
import type { Db } from '../../db/database.js'
import { AppError, unprocessable } from '../../errors.js'
import type { Logger } from '../../log/logger.js'
import { isValidCpf, normalizeCpf } from '../cpf.js'
import type { FlowRunner } from '../flow/types.js'
import { BatchEngine, type EngineOptions } from './engine.js'
import { BatchEvents } from './events.js'
import { BatchRepository, type CancelResult, type NewItem } from './repository.js'
import type { Bank, Batch, BatchOrigin, BatchParams, ItemCounts, ItemResult } from './types.js'

/** The CPFs (as the CRM holds them, e.g. an opportunity's `mainmail`) of a Kentro pipeline's open opportunities. */
export type ListPipelineCpfs = (pipelineId: number, signal?: AbortSignal) => Promise<string[]>

export interface BatchServiceDeps {
  db: Db
  logger: Logger
  now: () => number
  runner: FlowRunner<ItemResult>
  /** Flows of the other banks a batch may name; `bankReady` refuses a bank this tenant cannot run now (not configured). */
  runners?: Partial<Record<Bank, FlowRunner<ItemResult>>>
  bankReady?: (bank: Bank) => void
  listCpfs: ListPipelineCpfs
  /** BATCH_MAX_ITEMS, read per request so a config change applies at once. */
  maxItems: () => number
  engine: Pick<EngineOptions, 'concurrency'> & Partial<Omit<EngineOptions, 'repo' | 'runner' | 'runners' | 'events' | 'logger' | 'now'>>
}

export type CreateBatchInput =
  | ({ origem: 'lista'; cpfs: readonly (string | number)[] } & Omit<BatchParams, 'pipeline_id'>)
  | ({ origem: 'kentro'; pipeline_id: number } & Omit<BatchParams, 'pipeline_id'>)

export interface CreatedBatch {
  batch: Batch
  invalid: number
  duplicates: number
}

export class BatchService {
  readonly #repo: BatchRepository
  readonly #events = new BatchEvents()
  readonly #engine: BatchEngine
  readonly #deps: BatchServiceDeps

  constructor (deps: BatchServiceDeps) {
    this.#deps = deps
    this.#repo = new BatchRepository(deps.db)
    this.#engine = new BatchEngine({ ...deps.engine, repo: this.#repo, runner: deps.runner, ...(deps.runners ? { runners: deps.runners } : {}), events: this.#events, logger: deps.logger, now: deps.now })
  }

  start (): void {
    this.#engine.start()
  }

  /** Stop claiming now; in-flight items get `budgetMs` to finish, then their leases are released. Idempotent. */
  shutdown (budgetMs?: number): Promise<void> {
    return this.#engine.shutdown(budgetMs)
  }

  /** Look for due work now instead of at the next poll (e.g. another process queued items). */
  wake (): void {
    this.#engine.wake()
  }

  async create (input: CreateBatchInput, signal?: AbortSignal): Promise<CreatedBatch> {
    if (input.banco && input.banco !== 'v8') {
      if (!this.#deps.runners?.[input.banco]) throw unprocessable('banco_indisponivel', `O banco ${input.banco} não está disponível nesta porta.`)
      this.#deps.bankReady?.(input.banco)
    }
    const raw = input.origem === 'lista' ? input.cpfs : await this.#deps.listCpfs(input.pipeline_id, signal)
    const { items, duplicates } = toItems(raw)
    const max = this.#deps.maxItems()
    if (items.length === 0) {
      throw unprocessable('lote_vazio', input.origem === 'kentro' ? `O pipeline ${input.pipeline_id} não tem oportunidades abertas.` : 'A lista de CPFs está vazia.')
    }
    if (items.length > max) {
      throw new AppError('lote_muito_grande', `O lote tem ${items.length} CPFs distintos; o máximo por lote é ${max}.`, 422, { maximo: max, recebidos: items.length })
    }
    const origin: BatchOrigin = input.origem
    const params: BatchParams = {
      ...(input.amount ? { amount: input.amount } : {}),
      ...(input.installments !== undefined ? { installments: input.installments } : {}),
      ...(input.origem === 'kentro' ? { pipeline_id: input.pipeline_id } : {}),
      ...(input.banco && input.banco !== 'v8' ? { banco: input.banco } : {}),
    }
    const id = randomUUID()
    this.#repo.insertBatch({ id, origin, params, items, now: this.#deps.now() })
    const invalid = items.filter((i) => !i.valid).length
    this.#deps.logger.info({ lote: id, origem: origin, banco: params.banco ?? 'v8', total: items.length, invalid, duplicates }, 'batch: created')
    this.#engine.wake()
    return { batch: this.#repo.getBatch(id)!, invalid, duplicates }
  }

  get (id: string): Batch | undefined {
    return this.#repo.getBatch(id)
  }

  /** Newest first, one page. */
  list (limit: number, offset: number): ReturnType<BatchRepository['listBatches']> {
    return this.#repo.listBatches(limit, offset)
  }

  /** One page of a batch's items, optionally of one status. */
  items (batchId: string, query: Parameters<BatchRepository['listItems']>[1]): ReturnType<BatchRepository['listItems']> {
    return this.#repo.listItems(batchId, query)
  }

  counts (id: string): ItemCounts {
    return this.#repo.countItems(id)
  }

  /** Items of the batch that finished at or after `since` (ms), oldest first: what an event stream sends next. */
  finishedSince (batchId: string, since: number): ReturnType<BatchRepository['finishedSince']> {
    return this.#repo.finishedSince(batchId, since)
  }

  /** One item by its key (as finishedSince gives it). */
  item (key: number): ReturnType<BatchRepository['itemByKey']> {
    return this.#repo.itemByKey(key)
  }

  /** Call `onChange` whenever something about the batch changes in this process, until the returned function is called. */
  subscribe (batchId: string, onChange: () => void): () => void {
    return this.#events.subscribe(batchId, onChange)
  }

  /** How many event streams listen to the batch in this process. */
  subscribers (batchId: string): number {
    return this.#events.listenerCount(batchId)
  }

  cancel (id: string): (CancelResult & { batch: Batch }) | undefined {
    const result = this.#repo.cancel(id, this.#deps.now())
    if (result && result.cancelled > 0) {
      this.#deps.logger.info({ lote: id, cancelled: result.cancelled, inFlight: result.inFlight }, 'batch: cancelled')
    }
    if (result) this.#events.notify(id)
    return result
  }

  /** Items waiting and in flight over all batches, for /health. */
  activeTotals (): { pending: number; running: number } {
    return this.#repo.activeTotals()
  }
}

/** Normalize, de-duplicate (first occurrence wins) and validate; invalid entries are kept as failed items. */
export function toItems (raw: readonly (string | number)[]): { items: NewItem[]; duplicates: number } {
  const seen = new Set<string>()
  const items: NewItem[] = []
  let duplicates = 0
  for (const value of raw) {
    const cpf = normalizeCpf(value).slice(0, 40)
    if (seen.has(cpf)) {
      duplicates++
      continue
    }
    seen.add(cpf)
    items.push({ cpf, valid: isValidCpf(cpf) })
  }
  return { items, duplicates }
}
