/** The queue side of batches: insert, atomic lease claims, outcome + release in one transaction, cancel, purge. */
import type { Statement, Transaction } from 'better-sqlite3'
import type { Db } from '../../db/database.js'
import { VALIDATION_STEP } from '../flow/types.js'
import type { Batch, BatchOrigin, BatchParams, ClaimedItem, ItemInput, ItemOutcome, ItemRetry, NewItem } from './types.js'
import type { BatchReadRepository } from './reads.js'
import type { ClaimRow } from './rows.js'

export interface CancelResult {
  cancelled: number
  inFlight: number
  finished: boolean
}

export interface BatchRepositoryHooks {
  /** Runs inside the transaction that finishes a batch (the callbacks outbox queues `lote.concluido` there). */
  finished?: (batchId: string, now: number) => void
}

export class BatchQueueRepository {
  readonly #db: Db
  readonly #reads: BatchReadRepository
  readonly #hooks: BatchRepositoryHooks
  readonly #dueNow: Statement
  readonly #runningOf: Statement
  readonly #insertBatch: Statement
  readonly #insertItem: Statement
  readonly #claim: Statement
  readonly #markStarted: Statement
  readonly #renew: Statement
  readonly #finish: Statement
  readonly #retry: Statement
  readonly #finalize: Statement
  readonly #releaseOwner: Statement
  readonly #runningOwners: Statement
  readonly #cancelItems: Statement
  readonly #cancelBatch: Statement
  readonly #nextDue: Statement
  readonly #purge: Statement
  readonly #claimTx: Transaction<(owner: string, now: number, until: number) => ClaimedItem | undefined>
  readonly #finishTx: Transaction<(owner: string, batchId: string, seq: number, o: ItemOutcome, now: number) => { ok: boolean; batchFinished: boolean }>
  readonly #retryTx: Transaction<(owner: string, batchId: string, seq: number, r: ItemRetry, now: number) => { ok: boolean; batchFinished: boolean }>

  constructor (db: Db, reads: BatchReadRepository, hooks: BatchRepositoryHooks = {}) {
    this.#reads = reads
    this.#db = db
    this.#hooks = hooks
    this.#dueNow = db.prepare('UPDATE batch_items SET next_run_at = min(next_run_at, @now) WHERE cpf = @cpf AND status = \'PENDING\'')
    this.#runningOf = db.prepare('SELECT count(*) AS n FROM batch_items WHERE cpf = ? AND status = \'RUNNING\'')
    this.#insertBatch = db.prepare(
      `INSERT INTO batches (id, status, origin, params, total, created_at, started_at, finished_at, sheet)
       VALUES (@id, @status, @origin, @params, @total, @now, @startedAt, @finishedAt, @sheet)`
    )
    this.#insertItem = db.prepare(
      `INSERT INTO batch_items (batch_id, seq, cpf, status, etapa, erro, mensagem, next_run_at, finished_at, input, cells)
       VALUES (@batchId, @seq, @cpf, @status, @etapa, @erro, @mensagem, @now, @finishedAt, @input, @cells)`
    )
    // One statement picks and takes the item: an expired lease first (its worker died), else the item due
    // longest ago. SQLite runs a write statement alone, so two workers (or processes) never get the same item.
    this.#claim = db.prepare(
      `UPDATE batch_items
          SET status = 'RUNNING', lease_owner = @owner, lease_until = @until, attempts = attempts + 1,
              first_run_at = coalesce(first_run_at, @now)
        WHERE rowid = coalesce(
          (SELECT rowid FROM batch_items WHERE status = 'RUNNING' AND lease_until < @now LIMIT 1),
          (SELECT rowid FROM batch_items WHERE status = 'PENDING' AND next_run_at <= @now ORDER BY next_run_at LIMIT 1))
        RETURNING batch_id, seq, cpf, attempts, retries, first_run_at, input`
    )
    this.#markStarted = db.prepare(
      'UPDATE batches SET status = \'RUNNING\', started_at = coalesce(started_at, @now) WHERE id = @batchId AND status = \'PENDING\''
    )
    this.#renew = db.prepare(
      `UPDATE batch_items SET lease_until = @until
        WHERE batch_id = @batchId AND seq = @seq AND status = 'RUNNING' AND lease_owner = @owner`
    )
    // Guarded by lease_owner: a worker whose lease was taken over (or released at shutdown) writes nothing.
    // finished_at is kept strictly increasing within a batch, in the order the writes commit (a write statement
    // runs alone): even when another process's clock is behind or its write waited on the lock, an item finished
    // later sorts later, so an event stream's position (finished_at, rowid) resumes exactly (Last-Event-ID).
    this.#finish = db.prepare(
      `UPDATE batch_items
          SET status = @status, etapa = @etapa, erro = @erro, mensagem = @mensagem, resultado = @resultado,
              finished_at = max(@now, coalesce((SELECT max(finished_at) + 1 FROM batch_items
                                                 WHERE batch_id = @batchId AND status IN ('SUCCESS', 'FAILED')), 0)),
              lease_owner = NULL, lease_until = NULL
        WHERE batch_id = @batchId AND seq = @seq AND status = 'RUNNING' AND lease_owner = @owner`
    )
    this.#retry = db.prepare(
      `UPDATE batch_items
          SET status = CASE WHEN (SELECT status FROM batches WHERE id = @batchId) = 'CANCELLED' THEN 'CANCELLED' ELSE 'PENDING' END,
              finished_at = CASE WHEN (SELECT status FROM batches WHERE id = @batchId) = 'CANCELLED' THEN @now ELSE NULL END,
              etapa = @etapa, erro = @erro, mensagem = @mensagem, resultado = coalesce(@resultado, resultado),
              next_run_at = @nextRunAt, retries = @retries, lease_owner = NULL, lease_until = NULL
        WHERE batch_id = @batchId AND seq = @seq AND status = 'RUNNING' AND lease_owner = @owner`
    )
    this.#finalize = db.prepare(
      `UPDATE batches
          SET finished_at = @now, started_at = coalesce(started_at, @now),
              status = CASE status WHEN 'CANCELLED' THEN 'CANCELLED' ELSE 'COMPLETED' END
        WHERE id = @batchId AND finished_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM batch_items WHERE batch_id = @batchId AND status IN ('PENDING', 'RUNNING'))`
    )
    // next_run_at is left as it was (due when claimed): a released item keeps its place at the head of the queue.
    this.#releaseOwner = db.prepare(
      `UPDATE batch_items SET status = 'PENDING', lease_owner = NULL, lease_until = NULL, next_run_at = min(next_run_at, @now)
        WHERE status = 'RUNNING' AND lease_owner = @owner
        RETURNING batch_id`
    )
    this.#runningOwners = db.prepare('SELECT DISTINCT lease_owner AS owner FROM batch_items WHERE status = \'RUNNING\' AND lease_owner IS NOT NULL')
    // Pending items, and in-flight ones whose worker is gone (expired lease), are cancelled; live in-flight ones finish.
    this.#cancelItems = db.prepare(
      `UPDATE batch_items SET status = 'CANCELLED', finished_at = @now, lease_owner = NULL, lease_until = NULL
        WHERE batch_id = @batchId AND (status = 'PENDING' OR (status = 'RUNNING' AND lease_until < @now))`
    )
    this.#cancelBatch = db.prepare('UPDATE batches SET status = \'CANCELLED\' WHERE id = @batchId AND status IN (\'PENDING\', \'RUNNING\')')
    this.#nextDue = db.prepare(
      `SELECT (SELECT min(next_run_at) FROM batch_items WHERE status = 'PENDING') AS pending_due,
              (SELECT min(lease_until) FROM batch_items WHERE status = 'RUNNING') AS lease_due`
    )
    this.#purge = db.prepare('DELETE FROM batches WHERE finished_at IS NOT NULL AND finished_at < ?')
    this.#claimTx = db.transaction((owner: string, now: number, until: number) => {
      const row = this.#claim.get({ owner, now, until }) as ClaimRow | undefined
      if (!row) return undefined
      this.#markStarted.run({ batchId: row.batch_id, now })
      return { batchId: row.batch_id, seq: row.seq, cpf: row.cpf, attempts: row.attempts, retries: row.retries, firstRunAt: row.first_run_at, ...(row.input ? { input: JSON.parse(row.input) as ItemInput } : {}) }
    })
    this.#finishTx = db.transaction((owner: string, batchId: string, seq: number, o: ItemOutcome, now: number) => {
      const changed = this.#finish.run({
        owner,
        batchId,
        seq,
        now,
        status: o.status,
        etapa: o.etapa,
        erro: o.erro,
        mensagem: o.mensagem,
        resultado: o.resultado === null ? null : JSON.stringify(o.resultado),
      }).changes
      if (changed === 0) return { ok: false, batchFinished: false }
      return { ok: true, batchFinished: this.#finalizeBatch(batchId, now) }
    })
    this.#retryTx = db.transaction((owner: string, batchId: string, seq: number, r: ItemRetry, now: number) => {
      const changed = this.#retry.run({
        owner,
        batchId,
        seq,
        now,
        etapa: r.etapa,
        erro: r.erro,
        mensagem: r.mensagem,
        resultado: r.resultado === null ? null : JSON.stringify(r.resultado),
        nextRunAt: r.nextRunAt,
        retries: r.retries,
      }).changes
      if (changed === 0) return { ok: false, batchFinished: false }
      return { ok: true, batchFinished: this.#finalizeBatch(batchId, now) }
    })
  }

  /** Close the batch when nothing is left to run, telling the `finished` hook in the same transaction. */
  #finalizeBatch (batchId: string, now: number): boolean {
    const finished = this.#finalize.run({ batchId, now }).changes > 0
    if (finished) this.#hooks.finished?.(batchId, now)
    return finished
  }

  /**
   * Items of this CPF waiting for a later retry become due now (a webhook said its consult ended). Returns how many
   * items of the CPF will run soon: those made due plus those in flight.
   */
  dueNow (cpf: string, now: number): number {
    return this.#db.transaction(() => {
      const pending = this.#dueNow.run({ cpf, now }).changes
      return pending + (this.#runningOf.get(cpf) as { n: number }).n
    })()
  }

  /** Store a new batch and all its items at once. A batch with nothing to run is completed on the spot. */
  insertBatch (b: { id: string; origin: BatchOrigin; params: BatchParams; items: readonly NewItem[]; now: number; sheet?: unknown }): void {
    const runnable = b.items.some((i) => i.valid && !i.problem)
    this.#db.transaction(() => {
      this.#insertBatch.run({
        id: b.id,
        status: runnable ? 'PENDING' : 'COMPLETED',
        origin: b.origin,
        params: JSON.stringify(b.params),
        total: b.items.length,
        now: b.now,
        startedAt: runnable ? null : b.now,
        finishedAt: runnable ? null : b.now,
        sheet: b.sheet === undefined ? null : JSON.stringify(b.sheet),
      })
      b.items.forEach((item, seq) => {
        const runs = item.valid && !item.problem
        this.#insertItem.run({
          batchId: b.id,
          seq,
          cpf: item.cpf,
          status: runs ? 'PENDING' : 'FAILED',
          etapa: runs ? null : VALIDATION_STEP,
          erro: runs ? null : item.valid ? item.problem!.erro : 'cpf_invalido',
          mensagem: runs ? null : item.valid ? item.problem!.mensagem : 'CPF inválido (precisa de 11 dígitos com dígitos verificadores corretos).',
          now: b.now,
          finishedAt: runs ? null : b.now,
          input: item.input ? JSON.stringify(item.input) : null,
          cells: item.cells ? JSON.stringify(item.cells) : null,
        })
      })
      if (!runnable) this.#hooks.finished?.(b.id, b.now)
    }).immediate()
  }

  /** Take the lease of one runnable item (or none), marking its batch RUNNING. */
  claim (owner: string, now: number, leaseMs: number): ClaimedItem | undefined {
    return this.#claimTx.immediate(owner, now, now + leaseMs)
  }

  /** Extend a lease; false when this owner does not hold it any more. */
  renew (owner: string, batchId: string, seq: number, until: number): boolean {
    return this.#renew.run({ owner, batchId, seq, until }).changes > 0
  }

  /** Record a final outcome and release the lease in one transaction; ok=false when the lease was lost. */
  finish (owner: string, batchId: string, seq: number, outcome: ItemOutcome, now: number): { ok: boolean; batchFinished: boolean } {
    return this.#finishTx.immediate(owner, batchId, seq, outcome, now)
  }

  /** Put an item back to PENDING until `nextRunAt` (CANCELLED if its batch was cancelled meanwhile). */
  retry (owner: string, batchId: string, seq: number, r: ItemRetry, now: number): { ok: boolean; batchFinished: boolean } {
    return this.#retryTx.immediate(owner, batchId, seq, r, now)
  }

  /** Give back every lease this owner holds, claimable at once; returns the batches touched. */
  releaseOwner (owner: string, now: number): string[] {
    const rows = this.#releaseOwner.all({ owner, now }) as { batch_id: string }[]
    return [...new Set(rows.map((r) => r.batch_id))]
  }

  /** Owners holding leases right now (to find the ones whose process is gone). */
  runningOwners (): string[] {
    return (this.#runningOwners.all() as { owner: string }[]).map((r) => r.owner)
  }

  /** Cancel a batch's pending items; undefined when the batch does not exist. */
  cancel (batchId: string, now: number): (CancelResult & { batch: Batch }) | undefined {
    return this.#db.transaction(() => {
      const before = this.#reads.getBatch(batchId)
      if (!before) return undefined
      if (before.status === 'COMPLETED' || before.status === 'CANCELLED') {
        return { batch: before, cancelled: 0, inFlight: this.#reads.countItems(batchId).running, finished: before.finishedAt !== null }
      }
      const cancelled = this.#cancelItems.run({ batchId, now }).changes
      this.#cancelBatch.run({ batchId })
      const finished = this.#finalizeBatch(batchId, now)
      const batch = this.#reads.getBatch(batchId)!
      return { batch, cancelled, inFlight: this.#reads.countItems(batchId).running, finished }
    }).immediate()
  }

  /** The earliest moment an item becomes claimable (due time or lease expiry); null when nothing is active. */
  nextDueAt (): number | null {
    const row = this.#nextDue.get() as { pending_due: number | null; lease_due: number | null }
    const dues = [row.pending_due, row.lease_due].filter((d): d is number => d !== null)
    return dues.length === 0 ? null : Math.min(...dues)
  }

  /** Delete batches (and, by cascade, their items) finished before `before`. */
  purgeFinishedBefore (before: number): number {
    return this.#purge.run(before).changes
  }
}
