/**
 * One run of the CLT flow: its dependencies, what each step hands the next (the states), how a run ends (Done), and
 * how results are recorded. Steps are plain functions of (run, state) returning the next state or a Done.
 */
import type { KentroClient, Opportunity } from '../../upstream/kentro.js'
import type { Consult, V8Client } from '../../upstream/v8.js'
import type { Borrower, Field, Source } from '../borrower.js'
import type { SimulationCachePort } from './cache-port.js'
import { failedOutcome, recordHead, type Failure } from './record.js'
import type { FlowRecord, FlowResultsRepository } from './results.js'
import type { RunBase, RunDeps } from './run-base.js'
import type { SimulacaoResultado } from './simulation.js'
import type { FlowOutcome, FlowResult, Origem } from './types.js'

/** `poll` paces the consult's polling; `deadline` bounds it. */
export interface FlowDeps extends RunDeps {
  v8: Pick<V8Client, 'createConsult' | 'authorizeConsult' | 'getConsult' | 'findLatestConsultByCpf' | 'clientData' | 'simulationConfigs' | 'simulate'>
  kentro: Pick<KentroClient, 'configured' | 'findOpportunityByCpf' | 'getOpportunity' | 'mergeIntoOpportunity' | 'changeOpportunityStage'>
  results: FlowResultsRepository
  cache: SimulationCachePort
}

export type Run = RunBase<FlowDeps, FlowRecord>

/** What the steps have learned so far; each state adds to the previous one. */
export interface Known {
  opp?: Opportunity | null
  borrower?: Borrower
  consult?: Consult
  /** Birth date the current consult was created with, when known. */
  birthDateUsed?: string | null
}
export interface Found extends Known { opp: Opportunity | null }
export interface Gathered extends Found { borrower: Borrower }
export interface Opened extends Gathered {
  consult: Consult
  birthDateUsed: string | null
  /** A consult was already re-created once in this run after a birth-date rejection. */
  retried: boolean
  /** The consult was REJECTED before this run began (its reason was already compared). */
  rejectedAtStart: boolean
}
export interface Approved extends Opened { margin: number | null }
export interface Simulated extends Approved { simulacao: SimulacaoResultado; reused: boolean }

/** How a run ends early (a failure, or pending): the outcome the caller gets. */
export class Done {
  constructor (readonly outcome: FlowOutcome) {}
}
export type Next<S> = S | Done

/** How soon a caller should call again after a pending answer. */
export const RETRY_AFTER_MS = 5_000

const ORIGEM: Record<Source, Origem> = { request: 'requisicao', kentro: 'kentro', v8: 'v8', tenant_default: 'padrao_tenant' }

/** The `resultado` for what is known, plus `extra`. */
export function resultOf (k: Known, extra: Partial<FlowResult>): FlowResult {
  const b = k.borrower
  const c = k.consult
  const origem = b ? { cpf: 'requisicao' as const, ...mapSources(b.sources) } : undefined
  return {
    sucesso: false,
    oportunidade_id: k.opp?.id ?? null,
    dados_validados: b ? { nome: b.name, cpf: b.cpf, telefone: b.mobile.full, data_nascimento: b.birthDate, email: b.email, sexo: b.gender, origem } : null,
    termo_resultado: c
      ? {
          id: c.id,
          status: c.status,
          description: c.description ?? null,
          availableMarginValue: c.availableMarginValue ?? c.marginBaseValue ?? null,
          marginBaseValue: c.marginBaseValue ?? null,
          recommendedSimulationInstallmentValue: c.recommendedSimulationInstallmentValue ?? null,
          simulationLimit: c.simulationLimit ?? null,
        }
      : null,
    simulacao_resultado: null,
    status_termo: c?.status ?? null,
    motivo_falha: null,
    ...extra,
  }
}

function mapSources (s: Record<Field, Source>): Record<Field, Origem> {
  return Object.fromEntries(Object.entries(s).map(([f, src]) => [f, ORIGEM[src]])) as Record<Field, Origem>
}

/** Store the CPF's latest outcome (what resumes, mensagem-whatsapp and batches read). */
export function save (
  run: Run,
  k: Known,
  status: FlowRecord['status'],
  etapa: string,
  r: { resultado: FlowResult; kentroSynced: boolean; code?: string; erro?: string; details?: Record<string, unknown> | null }
): void {
  // Without a consult of its own, this run keeps what the previous record knew about the CPF's consult.
  const consultId = k.consult?.id ?? run.previous?.consultId ?? null
  const birthDateUsed = k.consult ? (k.birthDateUsed ?? null) : (run.previous?.birthDateUsed ?? null)
  const { amount, installments, supplied } = run.input
  run.deps.results.save({
    ...recordHead(run.input.cpf, status, etapa, r),
    consultId,
    resultado: r.resultado,
    birthDateUsed,
    request: { ...(amount ? { amount } : {}), ...(installments !== undefined ? { installments } : {}), ...(supplied && Object.keys(supplied).length > 0 ? { supplied } : {}) },
    kentroSynced: r.kentroSynced,
    updatedAt: run.now(),
  })
}

/** A definitive failure at `etapa`: recorded, logged (masked CPF), returned as the run's outcome. */
export function fail (
  run: Run,
  k: Known,
  f: Failure & { extra?: Partial<FlowResult> }
): Done {
  const resultado = resultOf(k, { motivo_falha: f.erro, ...f.extra })
  save(run, k, 'FAILED', f.etapa, { resultado, kentroSynced: false, code: f.code, erro: f.erro, details: f.details ?? null })
  return new Done(failedOutcome(run.deps.logger, 'clt flow', run.input.cpf, f, resultado))
}

/** The consult is still in progress at V8: recorded; the caller calls again later and the run resumes. */
export function pending (run: Run, k: Known): Done {
  const resultado = resultOf(k, { pendente: true })
  save(run, k, 'PENDING', 'aguardando', { resultado, kentroSynced: false })
  return new Done({ kind: 'pending', etapa: 'aguardando', resultado, retryAfterMs: RETRY_AFTER_MS })
}
