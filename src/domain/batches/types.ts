/** Shapes shared by the batch repository, engine, service and route. */
import type { Field } from '../borrower.js'
import type { Amount, FlowResult } from '../flow/types.js'
import type { PresencaResult } from '../presenca-flow/types.js'

export type BatchStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'CANCELLED'
export type ItemStatus = 'PENDING' | 'RUNNING' | 'SUCCESS' | 'FAILED' | 'CANCELLED'
export type BatchOrigin = 'lista' | 'kentro' | 'planilha'
/** Which flow a batch runs: V8's consult and simulation (default) or PresençaBank's eligibility and margin. */
export type Bank = 'v8' | 'presencabank'
/** What an item's flow answered (the shape of the batch's bank). */
export type ItemResult = FlowResult | PresencaResult

/** What every item of a batch is run with. */
export interface BatchParams {
  amount?: Amount
  installments?: number
  pipeline_id?: number
  /** Absent = v8 (batches stored before banks existed). */
  banco?: Bank
  /** The batch whose failed items this one runs again. */
  repete_lote?: string
}

/** What a batch keeps of its file: the column names and which one held the CPF (the cells stay with each item). */
export interface SheetMeta {
  arquivo: string | null
  formato: 'csv' | 'xlsx' | 'lista'
  colunas: string[]
  coluna_cpf: number
  /** Optional columns used, by role → column index. */
  usadas: Record<string, number>
}

export interface Batch {
  id: string
  status: BatchStatus
  origin: BatchOrigin
  params: BatchParams
  total: number
  createdAt: number
  startedAt: number | null
  finishedAt: number | null
  /** The file a spreadsheet batch came from (null for a CPF list or a Kentro pipeline). */
  sheet: SheetMeta | null
}

/** Item counts by status; every item is in exactly one of them. */
export interface ItemCounts {
  total: number
  pending: number
  running: number
  success: number
  failed: number
  cancelled: number
}

/** What every view of an item carries (the API's, the results file's, the table row's): which, whose, where it stands. */
export interface ItemHead {
  seq: number
  cpf: string
  status: ItemStatus
  etapa: string | null
  erro: string | null
  mensagem: string | null
}

export interface BatchItem extends ItemHead {
  resultado: ItemResult | null
  attempts: number
  finishedAt: number | null
}

/** What one item asks beyond its batch's parameters (a spreadsheet row's own valor, prazo and person data). */
export interface ItemInput {
  supplied?: Partial<Record<Field, string>>
  amount?: Amount
  installments?: number
}

/** One item as handed to `insertBatch`: valid CPFs are queued, invalid ones (or with a `problem`) are stored already failed. */
export interface NewItem {
  cpf: string
  valid: boolean
  /** What this item's row asks beyond the batch's parameters (a spreadsheet's data columns). */
  input?: ItemInput
  /** The row's cells as uploaded, repeated in the results file; deleted with the batch. */
  cells?: readonly string[]
  /** Why a valid CPF cannot run (its row's valor or prazo is unreadable). */
  problem?: { erro: string; mensagem: string }
}

/** An item a worker holds the lease of. */
export interface ClaimedItem {
  batchId: string
  seq: number
  cpf: string
  input?: ItemInput
  /** Claims so far, this one included. */
  attempts: number
  /** Consecutive transient failures before this claim. */
  retries: number
  firstRunAt: number
}

/** A final result written together with the lease release. */
export interface ItemOutcome {
  status: 'SUCCESS' | 'FAILED'
  etapa: string
  erro: string | null
  mensagem: string | null
  resultado: ItemResult | null
}

/** A not-yet-final result: the item goes back to PENDING until `nextRunAt`. */
export interface ItemRetry {
  etapa: string
  erro: string | null
  mensagem: string | null
  resultado: ItemResult | null
  nextRunAt: number
  /** Consecutive transient failures, this one included (0 after a `pending` outcome). */
  retries: number
}
