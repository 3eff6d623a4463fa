/** SQL of presenca_terms (each CPF's consult term: created once, reused) and presenca_results (each CPF's latest result). */
import type { Db } from '../../db/database.js'
import { runStatusOf, type RecordHead } from '../flow/record.js'
import { PRESENCA_VERDICTS, type PresencaResult, type Signature } from './types.js'

export interface TermRecord {
  cpf: string
  /** null while a creation was tried whose answer was lost (it may exist at PresençaBank, unknown to us). */
  autorizacaoId: string | null
  shortUrl: string | null
  /** The phone the term was created with. */
  telefone: string | null
  createdAt: number | null
  /** When a creation was last sent (kept when its answer was lost). */
  createTriedAt: number | null
  signedAt: number | null
  signature: Signature
  signError: string | null
  /** First time PresençaBank answered the links with this term. */
  authorizedAt: number | null
  updatedAt: number
}

export interface PresencaRecord extends RecordHead {
  resultado: PresencaResult
  updatedAt: number
}

interface TermRow {
  cpf: string
  autorizacao_id: string | null
  short_url: string | null
  telefone: string | null
  created_at: number | null
  create_tried_at: number | null
  signed_at: number | null
  sign_result: string | null
  sign_error: string | null
  authorized_at: number | null
  updated_at: number
}

interface ResultRow {
  cpf: string
  status: string
  etapa: string
  code: string | null
  erro: string | null
  details: string | null
  resultado: string
  updated_at: number
}

const SIGNATURES = new Set<Signature>(['pendente', 'assinado', 'erro_conhecido', 'recusada', 'incerta'])

function json<T> (text: string | null): T | null {
  if (text === null) return null
  try {
    return JSON.parse(text) as T
  } catch {
    return null
  }
}

export class PresencaRepository {
  readonly #getTerm
  readonly #putTerm
  readonly #getResult
  readonly #putResult
  readonly #countResults

  constructor (db: Db) {
    this.#getTerm = db.prepare<[string], TermRow>('SELECT * FROM presenca_terms WHERE cpf = ?')
    this.#putTerm = db.prepare(
      `INSERT INTO presenca_terms (cpf, autorizacao_id, short_url, telefone, created_at, create_tried_at, signed_at, sign_result, sign_error, authorized_at, updated_at)
       VALUES (@cpf, @autorizacaoId, @shortUrl, @telefone, @createdAt, @createTriedAt, @signedAt, @signature, @signError, @authorizedAt, @updatedAt)
       ON CONFLICT (cpf) DO UPDATE SET autorizacao_id = excluded.autorizacao_id, short_url = excluded.short_url, telefone = excluded.telefone,
         created_at = excluded.created_at, create_tried_at = excluded.create_tried_at, signed_at = excluded.signed_at,
         sign_result = excluded.sign_result, sign_error = excluded.sign_error, authorized_at = excluded.authorized_at, updated_at = excluded.updated_at`
    )
    this.#getResult = db.prepare<[string], ResultRow>('SELECT * FROM presenca_results WHERE cpf = ?')
    this.#putResult = db.prepare(
      `INSERT INTO presenca_results (cpf, status, etapa, code, erro, details, resultado, updated_at)
       VALUES (@cpf, @status, @etapa, @code, @erro, @details, @resultado, @updatedAt)
       ON CONFLICT (cpf) DO UPDATE SET status = excluded.status, etapa = excluded.etapa, code = excluded.code, erro = excluded.erro,
         details = excluded.details, resultado = excluded.resultado, updated_at = excluded.updated_at`
    )
    // A verdict (even a negative one) is a finished consult; any other failure is an error to look at.
    const verdicts = [...PRESENCA_VERDICTS].map((c) => `'${c}'`).join(', ')
    this.#countResults = db.prepare<[], { total: number; processando: number | null; concluidos: number | null; erros: number | null }>(
      `SELECT count(*) AS total,
              sum(status = 'PENDING') AS processando,
              sum(status = 'SUCCESS' OR (status = 'FAILED' AND code IN (${verdicts}))) AS concluidos,
              sum(status = 'FAILED' AND (code IS NULL OR code NOT IN (${verdicts}))) AS erros
         FROM presenca_results`
    )
  }

  term (cpf: string): TermRecord | undefined {
    const r = this.#getTerm.get(cpf)
    if (!r) return undefined
    const signature = (r.sign_result ?? 'pendente') as Signature
    return {
      cpf: r.cpf,
      autorizacaoId: r.autorizacao_id,
      shortUrl: r.short_url,
      telefone: r.telefone,
      createdAt: r.created_at,
      createTriedAt: r.create_tried_at,
      signedAt: r.signed_at,
      signature: SIGNATURES.has(signature) ? signature : 'pendente',
      signError: r.sign_error,
      authorizedAt: r.authorized_at,
      updatedAt: r.updated_at,
    }
  }

  saveTerm (t: TermRecord): void {
    this.#putTerm.run({ ...t })
  }

  result (cpf: string): PresencaRecord | undefined {
    const r = this.#getResult.get(cpf)
    const resultado = r ? json<PresencaResult>(r.resultado) : null
    if (!r || !resultado) return undefined
    return {
      cpf: r.cpf,
      status: runStatusOf(r.status),
      etapa: r.etapa,
      code: r.code,
      erro: r.erro,
      details: json<Record<string, unknown>>(r.details),
      resultado,
      updatedAt: r.updated_at,
    }
  }

  saveResult (rec: PresencaRecord): void {
    this.#putResult.run({
      cpf: rec.cpf,
      status: rec.status,
      etapa: rec.etapa,
      code: rec.code,
      erro: rec.erro,
      details: rec.details === null ? null : JSON.stringify(rec.details),
      resultado: JSON.stringify(rec.resultado),
      updatedAt: rec.updatedAt,
    })
  }

  /** CPFs by state, as the older system's /health counted them (its `precencabank.cache` block). */
  counts (): { total: number; processando: number; concluidos: number; erros: number } {
    const r = this.#countResults.get()
    return { total: r?.total ?? 0, processando: r?.processando ?? 0, concluidos: r?.concluidos ?? 0, erros: r?.erros ?? 0 }
  }
}
