/** Repository over `flow_results`: the latest CLT-flow outcome per CPF (what mensagem-whatsapp and resumes read). */
import type { Db } from '../../db/database.js'
import type { Field } from '../borrower.js'
import { runStatusOf, type RecordHead } from './record.js'
import type { Amount, FlowResult } from './types.js'

/** The amount and installment count a result was computed for. */
export interface FlowRequest {
  amount?: Amount
  installments?: number
  /** The caller's `dados_cliente`: a resume nobody asked for (a V8 webhook) runs with the same data. */
  supplied?: Partial<Record<Field, string>>
}

export interface FlowResultsHooks {
  /** Runs inside the save's transaction for SUCCESS and FAILED records (the callbacks outbox queues the event there). */
  final?: (record: FlowRecord) => void
}

/** `etapa`: kentro, validacao, termo, aguardando, simulacao, kentro_retorno or concluido. */
export interface FlowRecord extends RecordHead {
  consultId: string | null
  resultado: FlowResult | null
  /** The birth date the consult was created with (decides the one retry after a birth-date rejection). */
  birthDateUsed: string | null
  /** What the caller asked for (a stored simulation is reused only for the same request). */
  request: FlowRequest
  /** Whether the result was written back to Kentro (a resume retries the write when not). */
  kentroSynced: boolean
  updatedAt: number
}

interface Row {
  cpf: string
  status: string
  consult_id: string | null
  resultado: string
  updated_at: number
}

/** The JSON in column `resultado`: the FlowResult plus the bookkeeping a resume needs. */
type Stored = Omit<FlowRecord, 'cpf' | 'status' | 'consultId' | 'updatedAt'>

export class FlowResultsRepository {
  readonly #get
  readonly #put
  readonly #byConsult
  readonly #save: (record: FlowRecord) => void

  constructor (db: Db, hooks: FlowResultsHooks = {}) {
    this.#get = db.prepare<[string], Row>('SELECT cpf, status, consult_id, resultado, updated_at FROM flow_results WHERE cpf = ?')
    this.#byConsult = db.prepare<[string], { cpf: string }>('SELECT cpf FROM flow_results WHERE consult_id = ?')
    this.#save = db.transaction((record: FlowRecord) => {
      this.#write(record)
      if (record.status !== 'PENDING') hooks.final?.(record)
    })
    this.#put = db.prepare<[string, string, string | null, string, number]>(
      `INSERT INTO flow_results (cpf, status, consult_id, resultado, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (cpf) DO UPDATE SET status = excluded.status, consult_id = excluded.consult_id,
         resultado = excluded.resultado, updated_at = excluded.updated_at`
    )
  }

  get (cpf: string): FlowRecord | undefined {
    const row = this.#get.get(cpf)
    if (!row) return undefined
    let stored: Partial<Stored> = {}
    try {
      stored = JSON.parse(row.resultado) as Partial<Stored>
    } catch {
      // A damaged row reads as "no bookkeeping"; the next run overwrites it.
    }
    return {
      cpf: row.cpf,
      status: runStatusOf(row.status),
      etapa: stored.etapa ?? 'desconhecida',
      code: stored.code ?? null,
      erro: stored.erro ?? null,
      details: stored.details ?? null,
      consultId: row.consult_id,
      resultado: stored.resultado ?? null,
      birthDateUsed: stored.birthDateUsed ?? null,
      // Rows written before `request` existed held `pedido` with another meaning of valor: read as "nothing asked".
      request: stored.request ?? {},
      kentroSynced: stored.kentroSynced ?? false,
      updatedAt: row.updated_at,
    }
  }

  /** The CPFs whose latest result is about this V8 consult (a webhook names the consult, never the CPF). */
  cpfsOfConsult (consultId: string): string[] {
    return this.#byConsult.all(consultId).map((r) => r.cpf)
  }

  save (record: FlowRecord): void {
    this.#save(record)
  }

  #write (record: FlowRecord): void {
    const stored: Stored = {
      etapa: record.etapa,
      code: record.code,
      erro: record.erro,
      details: record.details,
      resultado: record.resultado,
      birthDateUsed: record.birthDateUsed,
      request: record.request,
      kentroSynced: record.kentroSynced,
    }
    this.#put.run(record.cpf, record.status, record.consultId, JSON.stringify(stored), record.updatedAt)
  }
}
