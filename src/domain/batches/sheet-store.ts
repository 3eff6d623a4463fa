/** SQL for spreadsheet batches: whether a batch is still there, its rows for the results file, counts by outcome, the pace, failed rows. */
import type { Statement } from 'better-sqlite3'
import type { Db } from '../../db/database.js'
import { emptyOutcomes, outcomeOf, WAITS_AT_BANK_SQL, type OutcomeCounts, type PaceInput } from './outcome.js'
import type { ItemHead, ItemInput, ItemResult, ItemStatus } from './types.js'

export interface ExportRow extends ItemHead {
  resultado: ItemResult | null
  cells: string[] | null
}

export interface RetryRow {
  cpf: string
  input: ItemInput | null
  cells: string[] | null
}

interface ExportDbRow extends ItemHead {
  resultado: string | null
  cells: string | null
}

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T))

export class SheetStore {
  readonly #exists: Statement<[string], { one: number }>
  readonly #rows: Statement<[string], ExportDbRow>
  readonly #outcomes: Statement<[string], { status: ItemStatus; erro: string | null; etapa: string | null; n: number }>
  readonly #finishes: Statement<[string], { at: number }>
  readonly #queued: Statement<[string], { n: number }>
  readonly #waiting: Statement<[string], { first: number | null }>
  readonly #waits: Statement<[string], { ms: number }>
  readonly #failed: Statement<[string], { cpf: string; input: string | null; cells: string | null }>

  constructor (db: Db) {
    this.#exists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM batches WHERE id = ?')
    this.#rows = db.prepare<[string], ExportDbRow>('SELECT seq, cpf, status, etapa, erro, mensagem, resultado, cells FROM batch_items WHERE batch_id = ? ORDER BY seq')
    this.#outcomes = db.prepare<[string], { status: ItemStatus; erro: string | null; etapa: string | null; n: number }>('SELECT status, erro, etapa, count(*) AS n FROM batch_items WHERE batch_id = ? GROUP BY status, erro, etapa')
    // Items refused at creation (no CPF, an unreadable valor) finish without running (attempts = 0): they say
    // nothing about the pace. Their step is VALIDATION_STEP, but so is a run the flow stopped for missing borrower data.
    this.#finishes = db.prepare<[string], { at: number }>(
      `SELECT finished_at AS at FROM batch_items
        WHERE batch_id = ? AND status IN ('SUCCESS', 'FAILED') AND attempts > 0
        ORDER BY finished_at DESC LIMIT 500`
    )
    this.#queued = db.prepare<[string], { n: number }>(
      `SELECT count(*) AS n FROM batch_items
        WHERE batch_id = ? AND status IN ('PENDING', 'RUNNING') AND NOT ${WAITS_AT_BANK_SQL}`
    )
    this.#waiting = db.prepare<[string], { first: number | null }>(
      `SELECT first_run_at AS first FROM batch_items
        WHERE batch_id = ? AND ${WAITS_AT_BANK_SQL}`
    )
    this.#waits = db.prepare<[string], { ms: number }>(
      `SELECT finished_at - first_run_at AS ms FROM batch_items
        WHERE batch_id = ? AND status IN ('SUCCESS', 'FAILED') AND attempts > 1 AND first_run_at IS NOT NULL
        ORDER BY finished_at DESC LIMIT 200`
    )
    // Items that ran and failed, missing borrower data included (it may be filled in the CRM meanwhile); not the
    // ones refused at creation, which never ran (attempts = 0): running them again changes nothing.
    this.#failed = db.prepare<[string], { cpf: string; input: string | null; cells: string | null }>(
      `SELECT cpf, input, cells FROM batch_items
        WHERE batch_id = ? AND status = 'FAILED' AND attempts > 0 ORDER BY seq`
    )
  }

  /** Whether the batch is still stored (not purged or deleted). */
  exists (batchId: string): boolean {
    return this.#exists.get(batchId) !== undefined
  }

  /** Every item in file order, with its cells; iterated, so a large batch is not held twice in memory. */
  * rows (batchId: string): Generator<ExportRow> {
    for (const r of this.#rows.iterate(batchId)) {
      yield { ...r, resultado: parse<ItemResult>(r.resultado), cells: parse<string[]>(r.cells) }
    }
  }

  outcomes (batchId: string): OutcomeCounts {
    const out = emptyOutcomes()
    for (const r of this.#outcomes.all(batchId)) out[outcomeOf(r.status, r.erro, r.etapa)] += r.n
    return out
  }

  paceInput (batchId: string, now: number): PaceInput {
    return {
      now,
      recentFinishes: this.#finishes.all(batchId).map((r) => r.at).reverse(),
      queued: this.#queued.get(batchId)?.n ?? 0,
      waitingSince: this.#waiting.all(batchId).map((r) => (r.first === null ? 0 : Math.max(0, now - r.first))),
      waitDurations: this.#waits.all(batchId).map((r) => r.ms),
    }
  }

  failed (batchId: string): RetryRow[] {
    return this.#failed.all(batchId).map((r) => ({ cpf: r.cpf, input: parse<ItemInput>(r.input), cells: parse<string[]>(r.cells) }))
  }
}
