/** What every flow records of a CPF's latest run (status, step, failure) and how a failure ends a run, logged once. */
import type { Logger } from '../../log/logger.js'
import { maskCpf } from '../../log/mask.js'
import type { FlowOutcome } from './types.js'

const RUN_STATUSES = ['SUCCESS', 'PENDING', 'FAILED'] as const
export type RunStatus = typeof RUN_STATUSES[number]

/** A stored status read back; one this code does not know reads as FAILED. */
export function runStatusOf (text: string): RunStatus {
  return (RUN_STATUSES as readonly string[]).includes(text) ? text as RunStatus : 'FAILED'
}

/** The head of every flow's per-CPF record. */
export interface RecordHead {
  cpf: string
  status: RunStatus
  /** Step where the flow stopped (e.g. kentro, validacao, termo, aguardando, concluido). */
  etapa: string
  /** Failure code (e.g. termo_recusado, dados_faltantes); null on success/pending. */
  code: string | null
  erro: string | null
  details: Record<string, unknown> | null
}

/** A definitive ending at `etapa`, as a step reports it. */
export interface Failure {
  etapa: string
  code: string
  erro: string
  details?: Record<string, unknown>
}

export function recordHead (
  cpf: string,
  status: RunStatus,
  etapa: string,
  r: { code?: string; erro?: string; details?: Record<string, unknown> | null }
): RecordHead {
  return { cpf, status, etapa, code: r.code ?? null, erro: r.erro ?? null, details: r.details ?? null }
}

/** The failed outcome of `f`, logged (masked CPF) as `<flow>: not completed`. */
export function failedOutcome<R> (logger: Logger, flow: string, cpf: string, f: Failure, resultado: R): FlowOutcome<R> {
  logger.info({ cpf: maskCpf(cpf), step: f.etapa, code: f.code }, `${flow}: not completed`)
  return { kind: 'failed', etapa: f.etapa, code: f.code, erro: f.erro, resultado, ...(f.details ? { details: f.details } : {}) }
}
