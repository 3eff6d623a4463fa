/** The read side of batches: one batch, lists, counts, the event-stream window; no writes. */
import type { Statement } from 'better-sqlite3'
import type { Db } from '../../db/database.js'
import type { Batch, BatchItem, ItemCounts, ItemStatus } from './types.js'
import { COUNT_KEY, emptyCounts, toBatch, toItem, type BatchRow, type ItemRow } from './rows.js'

function addCount (counts: ItemCounts, status: ItemStatus, n: number): void {
  counts[COUNT_KEY[status]] = n
  counts.total += n
}

export class BatchReadRepository {
  readonly #getBatch: Statement
  readonly #listBatches: Statement
  readonly #countBatches: Statement
  readonly #countItems: Statement
  readonly #countItemsOf: Statement
  readonly #listItems: Statement
  readonly #countItemsByStatus: Statement
  readonly #finishedSince: Statement
  readonly #itemByRowid: Statement
  readonly #activeTotals: Statement
  readonly #itemTotals: Statement
  readonly #createdSince: Statement

  constructor (db: Db) {
    this.#getBatch = db.prepare('SELECT * FROM batches WHERE id = ?')
    this.#listBatches = db.prepare('SELECT * FROM batches ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?')
    this.#countBatches = db.prepare('SELECT count(*) AS n FROM batches')
    this.#countItems = db.prepare('SELECT status, count(*) AS n FROM batch_items WHERE batch_id = ? GROUP BY status')
    // The ids as one JSON array: a page of any size is one statement, prepared once.
    this.#countItemsOf = db.prepare(
      `SELECT batch_id AS batchId, status, count(*) AS n FROM batch_items
        WHERE batch_id IN (SELECT value FROM json_each(?)) GROUP BY batch_id, status`
    )
    this.#listItems = db.prepare(
      `SELECT seq, cpf, status, etapa, erro, mensagem, resultado, attempts, finished_at FROM batch_items
        WHERE batch_id = @batchId AND (@status IS NULL OR status = @status)
        ORDER BY seq LIMIT @limit OFFSET @offset`
    )
    this.#countItemsByStatus = db.prepare('SELECT count(*) AS n FROM batch_items WHERE batch_id = @batchId AND (@status IS NULL OR status = @status)')
    // Served by the (batch_id, status, finished_at) index alone: cheap enough to re-read a window every tick.
    this.#finishedSince = db.prepare(
      `SELECT rowid AS key, finished_at FROM batch_items
        WHERE batch_id = ? AND status IN ('SUCCESS', 'FAILED') AND finished_at >= ?
        ORDER BY finished_at, rowid`
    )
    this.#itemByRowid = db.prepare(
      'SELECT seq, cpf, status, etapa, erro, mensagem, resultado, attempts, finished_at FROM batch_items WHERE rowid = ?'
    )
    this.#activeTotals = db.prepare('SELECT status, count(*) AS n FROM batch_items WHERE status IN (\'PENDING\', \'RUNNING\') GROUP BY status')
    this.#itemTotals = db.prepare('SELECT status, count(*) AS n FROM batch_items GROUP BY status')
    this.#createdSince = db.prepare('SELECT created_at AS createdAt, total FROM batches WHERE created_at > ? ORDER BY created_at, rowid')
  }

  getBatch (id: string): Batch | undefined {
    const row = this.#getBatch.get(id) as BatchRow | undefined
    return row ? toBatch(row) : undefined
  }

  listBatches (limit: number, offset: number): { total: number; batches: Batch[] } {
    const total = (this.#countBatches.get() as { n: number }).n
    return { total, batches: (this.#listBatches.all(limit, offset) as BatchRow[]).map(toBatch) }
  }

  countItems (batchId: string): ItemCounts {
    const counts = emptyCounts()
    for (const r of this.#countItems.all(batchId) as { status: ItemStatus; n: number }[]) addCount(counts, r.status, r.n)
    return counts
  }

  /** Item counts of several batches (a page of the list) in one query; every id asked for has an entry. */
  countItemsOf (batchIds: readonly string[]): Map<string, ItemCounts> {
    const out = new Map(batchIds.map((id) => [id, emptyCounts()]))
    if (batchIds.length === 0) return out
    for (const r of this.#countItemsOf.all(JSON.stringify(batchIds)) as { batchId: string; status: ItemStatus; n: number }[]) {
      addCount(out.get(r.batchId)!, r.status, r.n)
    }
    return out
  }

  listItems (batchId: string, opts: { status?: ItemStatus | undefined; limit: number; offset: number }): { total: number; items: BatchItem[] } {
    const params = { batchId, status: opts.status ?? null, limit: opts.limit, offset: opts.offset }
    const total = (this.#countItemsByStatus.get(params) as { n: number }).n
    return { total, items: (this.#listItems.all(params) as ItemRow[]).map(toItem) }
  }

  /** Keys of the items that reached SUCCESS/FAILED at or after `since` (ms), oldest first. */
  finishedSince (batchId: string, since: number): { key: number; finishedAt: number }[] {
    return (this.#finishedSince.all(batchId, since) as { key: number; finished_at: number }[]).map((r) => ({ key: r.key, finishedAt: r.finished_at }))
  }

  /** One item by the key `finishedSince` returned. */
  itemByKey (key: number): BatchItem | undefined {
    const row = this.#itemByRowid.get(key) as ItemRow | undefined
    return row ? toItem(row) : undefined
  }

  /** Items waiting (PENDING, due now or later) and in flight (RUNNING), over all batches. */
  activeTotals (): { pending: number; running: number } {
    const out = { pending: 0, running: 0 }
    for (const r of this.#activeTotals.all() as { status: ItemStatus; n: number }[]) {
      if (r.status === 'PENDING') out.pending = r.n
      else if (r.status === 'RUNNING') out.running = r.n
    }
    return out
  }

  /** Items of every batch kept, by state (the metrics' batch_items gauge). */
  itemTotals (): Record<string, number> {
    return Object.fromEntries((this.#itemTotals.all() as { status: ItemStatus; n: number }[]).map((r) => [r.status, r.n]))
  }

  /** Batches created after `since` (ms), oldest first, with their item counts (the daily quotas). */
  createdSince (since: number): { createdAt: number; total: number }[] {
    return this.#createdSince.all(since) as { createdAt: number; total: number }[]
  }
}
