/**
 * One run of the PresençaBank flow: its dependencies, what each step hands the next, how a run ends (Done), and how
 * the CPF's result is recorded after every step (the status route and a resume read it).
 */
import type { KentroClient } from '../../upstream/kentro.js'
import type { CallOptions, Margem, PresencaClient, Vinculo } from '../../upstream/presenca.js'
import type { V8Client } from '../../upstream/v8.js'
import { failedOutcome, recordHead, type Failure, type RunStatus } from '../flow/record.js'
import type { RunBase, RunDeps } from '../flow/run-base.js'
import type { Origem } from '../flow/types.js'
import type { PresencaRecord, PresencaRepository, TermRecord } from './store.js'
import type { PresencaOutcome, PresencaResult } from './types.js'

/** `poll` paces the links' polling while a signed term is not accepted yet; `deadline` bounds it. */
export interface PresencaFlowDeps extends RunDeps {
  presenca: Pick<PresencaClient, 'configured' | 'createTerm' | 'signTerm' | 'vinculos' | 'margem'>
  kentro: Pick<KentroClient, 'configured' | 'findOpportunityByCpf'>
  /** What V8 knows of the person (asked only when V8 is configured and a field is still missing). */
  v8: Pick<V8Client, 'clientData'>
  store: PresencaRepository
  /** The least a call may wait for its pacing slot even when the run's deadline is nearer (default 5 s). */
  pacingGraceMs?: number
}

export interface Run extends RunBase<PresencaFlowDeps, PresencaRecord> {
  pacingGraceMs: number
  /** What the run knows so far (recorded as it goes; a pacing wait records it as pending). */
  known: Known
}

/** The person a term is created for, with where each value came from. */
export interface Person {
  nome: string
  /** DDD + 9-digit mobile, 11 digits. */
  telefone: string
  origem: Record<string, Origem>
  oportunidadeId: string | null
}

export interface Known {
  person?: Person | undefined
  term?: TermRecord | undefined
  vinculos?: Vinculo[] | undefined
  vinculo?: Vinculo | undefined
  margem?: Margem | undefined
}
export interface Identified extends Known { person: Person }
/** The term to work with (no id only when the links answered without one: the CPF was authorized already). */
export interface Termed extends Identified { term: TermRecord }
export interface Linked extends Termed { vinculos: Vinculo[] }

export class Done {
  constructor (readonly outcome: PresencaOutcome) {}
}
export type Next<S> = S | Done

/** How soon a caller should call again while PresençaBank has not accepted the term yet. */
export const RETRY_AFTER_MS = 10_000

/** A call's signal and how long it may wait for its pacing slot (the deadline, never less than the grace). */
export function callOpts (run: Run): CallOptions {
  return { signal: run.signal, maxWaitMs: Math.max(run.pacingGraceMs, run.deadline - run.now()) }
}

function iso (ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

/** The result for what is known, at `etapa`, plus `extra`. */
export function resultOf (run: Run, k: Known, etapa: string, extra: Partial<PresencaResult> = {}): PresencaResult {
  const t = k.term
  const vinculos = (k.vinculos ?? []).map((v) => ({ matricula: v.matricula, numeroInscricaoEmpregador: v.numeroInscricaoEmpregador, elegivel: v.elegivel }))
  const m = k.margem
  return {
    sucesso: false,
    origem: 'PRESENCABANK',
    cpf: run.input.cpf,
    elegivel: k.vinculos ? k.vinculos.some((v) => v.elegivel !== false) : null,
    etapa,
    oportunidade_id: k.person?.oportunidadeId ?? run.previous?.resultado.oportunidade_id ?? null,
    dados_validados: k.person
      ? { nome: k.person.nome, cpf: run.input.cpf, telefone: k.person.telefone, origem: { cpf: 'requisicao', ...k.person.origem } }
      : (run.previous?.resultado.dados_validados ?? null),
    termo: t?.autorizacaoId
      ? {
          id: t.autorizacaoId,
          autorizacaoId: t.autorizacaoId,
          link: t.shortUrl,
          shortUrl: t.shortUrl,
          criado_em: iso(t.createdAt),
          assinatura: t.signature,
          motivo_assinatura: t.signError,
          autorizado: t.authorizedAt !== null,
        }
      : null,
    vinculos,
    vinculo: k.vinculo ? { matricula: k.vinculo.matricula, numeroInscricaoEmpregador: k.vinculo.numeroInscricaoEmpregador, elegivel: k.vinculo.elegivel } : null,
    margem: m
      ? {
          disponivel: m.disponivel,
          base: m.base,
          total_devido: m.totalDevido,
          matricula: m.matricula,
          cnpj_empregador: m.cnpjEmpregador,
          data_admissao: m.dataAdmissao,
          data_nascimento: m.dataNascimento,
          nome_mae: m.nomeMae,
          sexo: m.sexo,
          formato: m.formato,
        }
      : null,
    motivo_falha: null,
    ...extra,
  }
}

/** Record the CPF's latest state (what the status route, mensagem-whatsapp and resumes read). */
export function save (
  run: Run,
  k: Known,
  status: RunStatus,
  etapa: string,
  r: { resultado: PresencaResult; code?: string; erro?: string; details?: Record<string, unknown> | null }
): void {
  run.known = k
  run.deps.store.saveResult({ ...recordHead(run.input.cpf, status, etapa, r), resultado: r.resultado, updatedAt: run.now() })
}

/** A step in progress: recorded as pending at `etapa`, so the status route shows where the run is. */
export function progress (run: Run, k: Known, etapa: string): void {
  save(run, k, 'PENDING', etapa, { resultado: resultOf(run, k, etapa, { pendente: true }) })
}

/** A definitive ending at `etapa`: recorded, logged (masked CPF), returned as the run's outcome. */
export function fail (
  run: Run,
  k: Known,
  f: Failure & { extra?: Partial<PresencaResult> }
): Done {
  const resultado = resultOf(run, k, f.etapa, { motivo_falha: f.erro, ...f.extra })
  save(run, k, 'FAILED', f.etapa, { resultado, code: f.code, erro: f.erro, details: f.details ?? null })
  return new Done(failedOutcome(run.deps.logger, 'presencabank flow', run.input.cpf, f, resultado))
}

/** Not finished yet (term waiting, pacing): recorded; the caller calls again after `retryAfterMs` and the run resumes. */
export function pending (run: Run, k: Known, etapa: string, retryAfterMs = RETRY_AFTER_MS, extra: Partial<PresencaResult> = {}): Done {
  const resultado = resultOf(run, k, etapa, { pendente: true, ...extra })
  save(run, k, 'PENDING', etapa, { resultado })
  return new Done({ kind: 'pending', etapa, resultado, retryAfterMs })
}
