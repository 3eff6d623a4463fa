/** Rows of the batches and batch_items tables as SQLite returns them, and their mapping to the domain types. */
import type { Batch, BatchItem, BatchOrigin, BatchParams, BatchStatus, ItemCounts, ItemHead, ItemResult, ItemStatus, SheetMeta } from './types.js'

export interface BatchRow {
  id: string
  status: BatchStatus
  origin: BatchOrigin
  params: string
  total: number
  created_at: number
  started_at: number | null
  finished_at: number | null
  /** JSON of the batch's SheetMeta; null unless it came from a spreadsheet. */
  sheet: string | null
}

export interface ItemRow extends ItemHead {
  resultado: string | null
  attempts: number
  finished_at: number | null
}

export interface ClaimRow {
  batch_id: string
  seq: number
  cpf: string
  attempts: number
  retries: number
  first_run_at: number
  input: string | null
}

/** Batches stored before `amount` existed held `valor` (then a released amount) and `prazo`. */
export function paramsOf (text: string): BatchParams {
  const p = JSON.parse(text) as BatchParams & { valor?: number; prazo?: number }
  const { valor, prazo, ...rest } = p
  return {
    ...rest,
    ...(valor !== undefined && rest.amount === undefined ? { amount: { kind: 'disbursed' as const, value: valor } } : {}),
    ...(prazo !== undefined && rest.installments === undefined ? { installments: prazo } : {}),
  }
}

export const toBatch = (r: BatchRow): Batch => ({
  id: r.id,
  status: r.status,
  origin: r.origin,
  params: paramsOf(r.params),
  total: r.total,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  sheet: r.sheet === null ? null : (JSON.parse(r.sheet) as SheetMeta),
})

export const toItem = (r: ItemRow): BatchItem => ({
  seq: r.seq,
  cpf: r.cpf,
  status: r.status,
  etapa: r.etapa,
  erro: r.erro,
  mensagem: r.mensagem,
  resultado: r.resultado === null ? null : (JSON.parse(r.resultado) as ItemResult),
  attempts: r.attempts,
  finishedAt: r.finished_at,
})

export const emptyCounts = (): ItemCounts => ({ total: 0, pending: 0, running: 0, success: 0, failed: 0, cancelled: 0 })
export const COUNT_KEY: Record<ItemStatus, keyof ItemCounts> = {
  PENDING: 'pending',
  RUNNING: 'running',
  SUCCESS: 'success',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
}
