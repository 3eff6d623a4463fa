/** Batches (lotes) for one tenant: create from a CPF list or a Kentro pipeline, read, cancel; owns the workers. */
import { randomUUID } from 'node:crypto'
import type { Db } from '../../db/database.js'
import { AppError, notFound, unprocessable } from '../../errors.js'
import type { Logger } from '../../log/logger.js'
import type { FlowRunner } from '../flow/types.js'
import { BatchEngine, type EngineOptions } from './engine.js'
import { BatchEvents } from './events.js'
import { toItems } from './intake.js'
import type { CancelResult } from './queue.js'
import { BatchRepository } from './repository.js'
import type { BatchReadRepository } from './reads.js'
import type { Bank, Batch, BatchOrigin, BatchParams, ItemCounts, ItemResult, NewItem, SheetMeta } from './types.js'

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
  /** The tenant's quotas, read per request; none when absent (unit tests of the engine). */
  quotas?: () => BatchQuotas
  /** Called inside the transaction that finishes a batch (COMPLETED or CANCELLED), with its final counts. */
  onFinished?: (batch: Batch, counts: ItemCounts) => void
  engine: Pick<EngineOptions, 'concurrency'> & Partial<Omit<EngineOptions, 'repo' | 'runner' | 'runners' | 'events' | 'logger' | 'now'>>
}

export type CreateBatchInput =
  | ({ origem: 'lista'; cpfs: readonly (string | number)[] } & Omit<BatchParams, 'pipeline_id'>)
  | ({ origem: 'kentro'; pipeline_id: number } & Omit<BatchParams, 'pipeline_id'>)
  /** Rows of a spreadsheet (or a batch's failed items), already de-duplicated, with their own input and cells. */
  | ({ origem: 'planilha'; items: readonly NewItem[]; sheet: SheetMeta | null; duplicates: number } & Omit<BatchParams, 'pipeline_id'>)

/** What one tenant may queue: batches and items created per rolling 24 h, and items waiting or running at once. */
export interface BatchQuotas {
  batchesPerDay: number
  itemsPerDay: number
  maxPendingItems: number
}

/** The one answer for a batch that does not exist (never did, or was purged or deleted). */
export const batchNotFound = (id: string): AppError => notFound('lote_nao_encontrado', `Lote não encontrado: ${id}`)

const DAY_MS = 86_400_000
/** When the pending-items cap is hit nothing says when room frees up; this is how soon to look again. */
const PENDING_RETRY_S = 60

function inWords (s: number): string {
  if (s < 60) return `${s} s`
  const min = Math.ceil(s / 60)
  if (min < 60) return `${min} min`
  return min % 60 === 0 ? `${min / 60} h` : `${Math.floor(min / 60)} h ${min % 60} min`
}

const overQuota = (code: string, message: string, retryAfterS: number, details: Record<string, unknown>): AppError =>
  new AppError(code, `${message} Tente de novo em ${inWords(retryAfterS)}.`, 429, { ...details, retry_after_s: retryAfterS })

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
    this.#repo = new BatchRepository(deps.db, {
      finished: (batchId) => {
        const batch = this.#repo.reads.getBatch(batchId)
        if (batch) deps.onFinished?.(batch, this.#repo.reads.countItems(batchId))
      },
    })
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

  /** Items of this CPF waiting for a retry run now (its consult just ended); how many items of the CPF will run soon. */
  dueNow (cpf: string): number {
    const n = this.#repo.queue.dueNow(cpf, this.#deps.now())
    if (n > 0) this.#engine.wake()
    return n
  }

  async create (input: CreateBatchInput, signal?: AbortSignal): Promise<CreatedBatch> {
    if (input.banco && input.banco !== 'v8') {
      if (!this.#deps.runners?.[input.banco]) throw unprocessable('banco_indisponivel', `O banco ${input.banco} não está disponível nesta porta.`)
      this.#deps.bankReady?.(input.banco)
    }
    const quotas = this.#deps.quotas?.()
    const recent = quotas ? this.#repo.reads.createdSince(this.#deps.now() - DAY_MS) : []
    if (quotas) this.#checkBatchesPerDay(quotas, recent) // before asking Kentro for anything
    const { items, duplicates } = input.origem === 'planilha'
      ? { items: input.items, duplicates: input.duplicates }
      : toItems(input.origem === 'lista' ? input.cpfs : await this.#deps.listCpfs(input.pipeline_id, signal))
    const max = this.#deps.maxItems()
    if (items.length === 0) {
      throw unprocessable('lote_vazio', input.origem === 'kentro' ? `O pipeline ${input.pipeline_id} não tem oportunidades abertas.` : input.origem === 'planilha' ? 'O arquivo não tem nenhum CPF.' : 'A lista de CPFs está vazia.')
    }
    if (items.length > max) {
      throw new AppError('lote_muito_grande', `O lote tem ${items.length} CPFs distintos; o máximo por lote é ${max}.`, 422, { maximo: max, recebidos: items.length })
    }
    if (quotas) this.#checkItems(quotas, recent, items)
    const origin: BatchOrigin = input.origem
    const params: BatchParams = {
      ...(input.amount ? { amount: input.amount } : {}),
      ...(input.installments !== undefined ? { installments: input.installments } : {}),
      ...(input.origem === 'kentro' ? { pipeline_id: input.pipeline_id } : {}),
      ...(input.banco && input.banco !== 'v8' ? { banco: input.banco } : {}),
      ...(input.repete_lote ? { repete_lote: input.repete_lote } : {}),
    }
    const id = randomUUID()
    this.#repo.queue.insertBatch({ id, origin, params, items, now: this.#deps.now(), ...(input.origem === 'planilha' && input.sheet ? { sheet: input.sheet } : {}) })
    const invalid = items.filter((i) => !i.valid || i.problem).length
    this.#deps.logger.info({ batch: id, origin, bank: params.banco ?? 'v8', total: items.length, invalid, duplicates }, 'batch: created')
    this.#engine.wake()
    return { batch: this.#repo.reads.getBatch(id)!, invalid, duplicates }
  }

  /** BATCHES_PER_DAY: a rolling 24 h; room comes back when the oldest batch of the window leaves it. */
  #checkBatchesPerDay (q: BatchQuotas, recent: readonly { createdAt: number }[]): void {
    if (recent.length < q.batchesPerDay) return
    const frees = recent[recent.length - q.batchesPerDay]!.createdAt + DAY_MS
    const retry = Math.max(1, Math.ceil((frees - this.#deps.now()) / 1000))
    throw overQuota('cota_diaria_de_lotes', `Esta porta já criou ${recent.length} lotes nas últimas 24 h (máximo ${q.batchesPerDay}).`, retry, { maximo: q.batchesPerDay })
  }

  /** BATCH_ITEMS_PER_DAY (every CPF stored, invalid ones too: they take room for BATCH_RETENTION_DAYS) and BATCH_MAX_PENDING_ITEMS. */
  #checkItems (q: BatchQuotas, recent: readonly { createdAt: number; total: number }[], items: readonly NewItem[]): void {
    if (items.length > q.itemsPerDay) {
      throw new AppError('lote_maior_que_cota', `O lote tem ${items.length} CPFs; a cota diária desta porta é ${q.itemsPerDay}.`, 422, { maximo: q.itemsPerDay, recebidos: items.length })
    }
    const used = recent.reduce((n, b) => n + b.total, 0)
    if (used + items.length > q.itemsPerDay) {
      // The moment enough of the window's oldest batches have left it for this one to fit.
      let freed = 0
      let frees = this.#deps.now() + DAY_MS
      for (const b of recent) {
        freed += b.total
        if (used - freed + items.length <= q.itemsPerDay) {
          frees = b.createdAt + DAY_MS
          break
        }
      }
      const retry = Math.max(1, Math.ceil((frees - this.#deps.now()) / 1000))
      throw overQuota('cota_diaria_de_cpfs', `Esta porta já recebeu ${used} CPFs em lotes nas últimas 24 h; com estes ${items.length} passaria do máximo de ${q.itemsPerDay}.`, retry, { maximo: q.itemsPerDay, usados: used })
    }
    const runnable = items.filter((i) => i.valid && !i.problem).length
    const { pending, running } = this.#repo.reads.activeTotals()
    if (pending + running + runnable > q.maxPendingItems) {
      throw overQuota('fila_de_lotes_cheia', `Há ${pending + running} CPFs de lotes na fila desta porta; com estes ${runnable} passaria do máximo de ${q.maxPendingItems}.`, PENDING_RETRY_S, { maximo: q.maxPendingItems, na_fila: pending + running })
    }
  }

  get (id: string): Batch | undefined {
    return this.#repo.reads.getBatch(id)
  }

  /** Newest first, one page, each batch with its item counts (read for the whole page at once). */
  list (limit: number, offset: number): { total: number; batches: Array<{ batch: Batch; counts: ItemCounts }> } {
    const { total, batches } = this.#repo.reads.listBatches(limit, offset)
    const counts = this.#repo.reads.countItemsOf(batches.map((b) => b.id))
    return { total, batches: batches.map((batch) => ({ batch, counts: counts.get(batch.id)! })) }
  }

  /** One page of a batch's items, optionally of one status. */
  items (batchId: string, query: Parameters<BatchReadRepository['listItems']>[1]): ReturnType<BatchReadRepository['listItems']> {
    return this.#repo.reads.listItems(batchId, query)
  }

  counts (id: string): ItemCounts {
    return this.#repo.reads.countItems(id)
  }

  /** Items of the batch that finished at or after `since` (ms), oldest first: what an event stream sends next. */
  finishedSince (batchId: string, since: number): ReturnType<BatchReadRepository['finishedSince']> {
    return this.#repo.reads.finishedSince(batchId, since)
  }

  /** One item by its key (as finishedSince gives it). */
  item (key: number): ReturnType<BatchReadRepository['itemByKey']> {
    return this.#repo.reads.itemByKey(key)
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
    const result = this.#repo.queue.cancel(id, this.#deps.now())
    if (result && result.cancelled > 0) {
      this.#deps.logger.info({ batch: id, cancelled: result.cancelled, inFlight: result.inFlight }, 'batch: cancelled')
    }
    if (result) this.#events.notify(id)
    return result
  }

  /** Items waiting and in flight over all batches, for /health. */
  activeTotals (): { pending: number; running: number } {
    return this.#repo.reads.activeTotals()
  }

  /** Items of every batch kept, by state. */
  itemTotals (): Record<string, number> {
    return this.#repo.reads.itemTotals()
  }
}
