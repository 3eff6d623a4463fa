/**
 * The V8 webhook inbox (table `webhook_inbox`): every delivery is stored before V8 gets its 2xx, keyed by its content
 * id, then applied by the applier; state pending → applied | ignored | failed. The same content within
 * DUPLICATE_WINDOW_MS of its last delivery (or while still pending) is a redelivery: it only bumps `deliveries`.
 * Later, it is a new event (`<id>.2`, …): V8's minimal events cannot tell "pending again" from a redelivery of the
 * first "pending" otherwise, and applying one is safe (final statuses never move; a consult is read back at V8).
 */
import type { Statement } from 'better-sqlite3'
import type { Db } from '../../db/database.js'
import { eventId, type V8Event } from '../../upstream/v8-events.js'

export type InboxState = 'pending' | 'applied' | 'ignored' | 'failed'

/** Redeliveries of one event come within minutes (every receiver seen answers at once); a later repeat is a new event. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000

export interface InboxItem {
  id: string
  type: string
  ref: string | null
  status: string | null
  payload: unknown
  attempts: number
  receivedAt: number
}

/** A row as the admin list shows it: the event without its payload, plus how it went. */
export interface InboxRow extends Omit<InboxItem, 'payload'> {
  state: InboxState
  outcome: string | null
  deliveries: number
  appliedAt: number | null
}

export class WebhookInbox {
  readonly #s: Record<'insert' | 'bump' | 'last' | 'claim' | 'done' | 'retry' | 'counts' | 'dups' | 'list' | 'nextDue' | 'purge', Statement>
  readonly #store

  constructor (db: Db) {
    this.#s = {
      insert: db.prepare(
        `INSERT INTO webhook_inbox (id, content_id, type, ref, status, payload, received_at, state, outcome, next_try_at, applied_at)
         VALUES (@id, @contentId, @type, @ref, @status, @payload, @now, @state, @outcome, @now, @appliedAt)`
      ),
      bump: db.prepare('UPDATE webhook_inbox SET deliveries = deliveries + 1, last_received_at = @now WHERE id = @id'),
      last: db.prepare('SELECT id, state, coalesce(last_received_at, received_at) AS at, (SELECT count(*) FROM webhook_inbox WHERE content_id = @contentId) AS n FROM webhook_inbox WHERE content_id = @contentId ORDER BY received_at DESC, rowid DESC LIMIT 1'),
      // One statement takes the row: a second process (a reload's overlap) cannot take it within the lease.
      claim: db.prepare(
        `UPDATE webhook_inbox SET attempts = attempts + 1, next_try_at = @until
          WHERE id = (SELECT id FROM webhook_inbox WHERE state = 'pending' AND next_try_at <= @now ORDER BY next_try_at, received_at LIMIT 1)
          RETURNING id, type, ref, status, payload, attempts, received_at AS receivedAt`
      ),
      done: db.prepare('UPDATE webhook_inbox SET state = @state, outcome = @outcome, applied_at = @now WHERE id = @id'),
      retry: db.prepare('UPDATE webhook_inbox SET next_try_at = @next, outcome = @outcome WHERE id = @id AND state = \'pending\''),
      counts: db.prepare('SELECT state, count(*) AS n FROM webhook_inbox GROUP BY state'),
      dups: db.prepare('SELECT coalesce(sum(deliveries - 1), 0) AS n FROM webhook_inbox'),
      list: db.prepare('SELECT id, type, ref, status, state, outcome, deliveries, attempts, received_at AS receivedAt, applied_at AS appliedAt FROM webhook_inbox ORDER BY received_at DESC, rowid DESC LIMIT ?'),
      nextDue: db.prepare('SELECT min(next_try_at) AS due FROM webhook_inbox WHERE state = \'pending\''),
      purge: db.prepare('DELETE FROM webhook_inbox WHERE state <> \'pending\' AND received_at < ?'),
    }
    this.#store = db.transaction((contentId: string, e: V8Event, payload: unknown, now: number) => {
      const last = this.#s.last.get({ contentId }) as { id: string; state: InboxState; at: number; n: number } | undefined
      if (last && (last.state === 'pending' || now - last.at < DUPLICATE_WINDOW_MS)) {
        this.#s.bump.run({ id: last.id, now })
        return { id: last.id, duplicate: true }
      }
      const id = last ? `${contentId}.${last.n + 1}` : contentId
      const ref = e.kind === 'consult' ? e.consultId : e.kind === 'operation' ? e.operationId : null
      const status = e.kind === 'consult' || e.kind === 'operation' ? e.status : null
      // Handshakes and events we cannot use are kept for the record only.
      const closed = e.kind === 'test' || e.kind === 'registered' || e.kind === 'unknown'
      this.#s.insert.run({
        id,
        contentId,
        type: e.type || '(sem tipo)',
        ref,
        status,
        payload: JSON.stringify(payload),
        now,
        state: closed ? 'ignored' : 'pending',
        outcome: e.kind === 'unknown' ? e.problem : closed ? 'handshake' : null,
        appliedAt: closed ? now : null,
      })
      return { id, duplicate: false }
    })
  }

  /** Store one delivery (synchronous, one transaction); a redelivery is only counted. */
  store (e: V8Event, payload: unknown, now: number): { id: string; duplicate: boolean } {
    return this.#store(eventId(payload), e, payload, now)
  }

  /** The next due pending event, leased for `leaseMs` (attempts counted). */
  claim (now: number, leaseMs: number): InboxItem | undefined {
    const r = this.#s.claim.get({ now, until: now + leaseMs }) as (InboxItem & { payload: string }) | undefined
    if (!r) return undefined
    return { ...r, payload: JSON.parse(r.payload) as unknown }
  }

  finish (id: string, state: Exclude<InboxState, 'pending'>, outcome: string, now: number): void {
    this.#s.done.run({ id, state, outcome, now })
  }

  retryAt (id: string, next: number, outcome: string): void {
    this.#s.retry.run({ id, next, outcome })
  }

  nextDueAt (): number | null {
    return (this.#s.nextDue.get() as { due: number | null }).due
  }

  counts (): Record<InboxState, number> & { duplicates: number } {
    const out = { pending: 0, applied: 0, ignored: 0, failed: 0, duplicates: 0 }
    for (const r of this.#s.counts.all() as { state: InboxState; n: number }[]) out[r.state] = r.n
    out.duplicates = (this.#s.dups.get() as { n: number }).n
    return out
  }

  recent (limit: number): InboxRow[] {
    return this.#s.list.all(limit) as InboxRow[]
  }

  purgeBefore (before: number): number {
    return this.#s.purge.run(before).changes
  }
}
