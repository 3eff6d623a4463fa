/**
 * The callbacks outbox (table `outbox`): events to POST to the tenant's CALLBACK_URL, one row per event id, written in
 * the same transaction as the change they announce, delivered at least once by the worker in delivery.ts.
 */
import type { Statement } from 'better-sqlite3'
import type { Db } from '../../db/database.js'

/** What a client receives: the event id and type (also in headers), when it happened, which tenant, and the data. */
export interface EventEnvelope {
  id: string
  tipo: string
  criado_em: string
  tenant: string
  porta: number
  dados: Record<string, unknown>
}

export type DeliveryState = 'pending' | 'sending' | 'delivered' | 'dead'

export interface OutboxRow {
  id: string
  type: string
  state: DeliveryState
  attempts: number
  createdAt: number
  nextAttemptAt: number
  lastStatus: number | null
  lastError: string | null
  deliveredAt: number | null
}

export interface Claimed {
  id: string
  type: string
  body: string
  attempts: number
}

interface Row {
  id: string
  type: string
  state: DeliveryState
  attempts: number
  created_at: number
  next_attempt_at: number
  last_status: number | null
  last_error: string | null
  delivered_at: number | null
}

const toRow = (r: Row): OutboxRow => ({
  id: r.id,
  type: r.type,
  state: r.state,
  attempts: r.attempts,
  createdAt: r.created_at,
  nextAttemptAt: r.next_attempt_at,
  lastStatus: r.last_status,
  lastError: r.last_error,
  deliveredAt: r.delivered_at,
})

export interface OutboxOptions {
  now: () => number
  /** The tenant as the envelope names it, read per event (a renamed tenant applies at once). */
  tenant: () => { name: string; port: number }
  /** Whether events are kept at all (CALLBACK_URL set): without a receiver nothing piles up. */
  enabled: () => boolean
}

export class Outbox {
  readonly #s: Record<'insert' | 'claim' | 'delivered' | 'retry' | 'dead' | 'release' | 'owners' | 'list' | 'counts' | 'nextDue' | 'requeue' | 'purge' | 'get', Statement>
  readonly #listeners = new Set<() => void>()

  constructor (private readonly db: Db, private readonly o: OutboxOptions) {
    this.#s = {
      insert: db.prepare(
        `INSERT INTO outbox (id, type, body, created_at, state, attempts, next_attempt_at)
         VALUES (@id, @type, @body, @now, 'pending', 0, @now) ON CONFLICT (id) DO NOTHING`
      ),
      // An expired lease first (its process died mid-delivery), else the event due longest ago.
      claim: db.prepare(
        `UPDATE outbox SET state = 'sending', lease_owner = @owner, lease_until = @until, attempts = attempts + 1
          WHERE id = coalesce(
            (SELECT id FROM outbox WHERE state = 'sending' AND lease_until < @now LIMIT 1),
            (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= @now ORDER BY next_attempt_at, created_at LIMIT 1))
          RETURNING id, type, body, attempts`
      ),
      delivered: db.prepare(
        `UPDATE outbox SET state = 'delivered', delivered_at = @now, last_status = @status, last_error = NULL, lease_owner = NULL, lease_until = NULL
          WHERE id = @id AND state = 'sending' AND lease_owner = @owner`
      ),
      retry: db.prepare(
        `UPDATE outbox SET state = 'pending', next_attempt_at = @next, last_status = @status, last_error = @error, lease_owner = NULL, lease_until = NULL
          WHERE id = @id AND state = 'sending' AND lease_owner = @owner`
      ),
      dead: db.prepare(
        `UPDATE outbox SET state = 'dead', last_status = @status, last_error = @error, lease_owner = NULL, lease_until = NULL
          WHERE id = @id AND state = 'sending' AND lease_owner = @owner`
      ),
      // The attempt did not happen (shutdown): back to pending, due at once, the attempt not counted.
      release: db.prepare(
        `UPDATE outbox SET state = 'pending', attempts = max(0, attempts - @uncount), lease_owner = NULL, lease_until = NULL, next_attempt_at = min(next_attempt_at, @now)
          WHERE state = 'sending' AND lease_owner = @owner`
      ),
      owners: db.prepare('SELECT DISTINCT lease_owner AS owner FROM outbox WHERE state = \'sending\' AND lease_owner IS NOT NULL'),
      list: db.prepare(
        `SELECT id, type, state, attempts, created_at, next_attempt_at, last_status, last_error, delivered_at FROM outbox
          WHERE (@state IS NULL OR state = @state) ORDER BY created_at DESC, rowid DESC LIMIT @limit`
      ),
      get: db.prepare('SELECT id, type, state, attempts, created_at, next_attempt_at, last_status, last_error, delivered_at, body FROM outbox WHERE id = ?'),
      counts: db.prepare('SELECT state, count(*) AS n FROM outbox GROUP BY state'),
      nextDue: db.prepare(
        `SELECT min(t) AS due FROM (SELECT min(next_attempt_at) AS t FROM outbox WHERE state = 'pending'
          UNION ALL SELECT min(lease_until) FROM outbox WHERE state = 'sending')`
      ),
      requeue: db.prepare('UPDATE outbox SET state = \'pending\', attempts = 0, next_attempt_at = @now, last_error = NULL WHERE id = @id AND state = \'dead\''),
      purge: db.prepare('DELETE FROM outbox WHERE state IN (\'delivered\', \'dead\') AND created_at < ?'),
    }
  }

  /**
   * Queue an event (call it inside the transaction that makes the change it announces). The same id twice is one
   * event: a repeated change sends nothing twice. Returns whether it was queued.
   */
  enqueue (e: { id: string; type: string; data: Record<string, unknown> }): boolean {
    if (!this.o.enabled()) return false
    const now = this.o.now()
    const t = this.o.tenant()
    const envelope: EventEnvelope = { id: e.id, tipo: e.type, criado_em: new Date(now).toISOString(), tenant: t.name, porta: t.port, dados: e.data }
    const queued = this.#s.insert.run({ id: e.id, type: e.type, body: JSON.stringify(envelope), now }).changes > 0
    // Workers look once the transaction is over (a wake inside it would find nothing committed yet).
    if (queued) for (const l of this.#listeners) queueMicrotask(l)
    return queued
  }

  /** Call `fn` after each new event. */
  onEnqueue (fn: () => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }

  claim (owner: string, leaseMs: number): Claimed | undefined {
    const now = this.o.now()
    return this.#s.claim.get({ owner, now, until: now + leaseMs }) as Claimed | undefined
  }

  markDelivered (owner: string, id: string, status: number): boolean {
    return this.#s.delivered.run({ owner, id, status, now: this.o.now() }).changes > 0
  }

  markRetry (owner: string, id: string, r: { status: number | null; error: string | null; next: number }): boolean {
    return this.#s.retry.run({ owner, id, status: r.status, error: r.error, next: r.next }).changes > 0
  }

  markDead (owner: string, id: string, r: { status: number | null; error: string | null }): boolean {
    return this.#s.dead.run({ owner, id, status: r.status, error: r.error }).changes > 0
  }

  /** Give back this owner's leases; `uncount` the attempt when it never reached the receiver. */
  release (owner: string, uncount: boolean): number {
    return this.#s.release.run({ owner, uncount: uncount ? 1 : 0, now: this.o.now() }).changes
  }

  leaseOwners (): string[] {
    return (this.#s.owners.all() as { owner: string }[]).map((r) => r.owner)
  }

  /** When the next event becomes due (or a lease expires); null when nothing waits. */
  nextDueAt (): number | null {
    return (this.#s.nextDue.get() as { due: number | null }).due
  }

  /** Newest first. */
  list (opts: { state?: DeliveryState | undefined; limit: number }): OutboxRow[] {
    return (this.#s.list.all({ state: opts.state ?? null, limit: opts.limit }) as Row[]).map(toRow)
  }

  get (id: string): (OutboxRow & { body: string }) | undefined {
    const r = this.#s.get.get(id) as (Row & { body: string }) | undefined
    return r ? { ...toRow(r), body: r.body } : undefined
  }

  counts (): Record<DeliveryState, number> {
    const out: Record<DeliveryState, number> = { pending: 0, sending: 0, delivered: 0, dead: 0 }
    for (const r of this.#s.counts.all() as { state: DeliveryState; n: number }[]) out[r.state] = r.n
    return out
  }

  /** A dead event goes back to the queue with its attempts reset (same id: the receiver still de-duplicates). */
  requeue (id: string): boolean {
    const ok = this.#s.requeue.run({ id, now: this.o.now() }).changes > 0
    if (ok) for (const l of this.#listeners) queueMicrotask(l)
    return ok
  }

  purgeBefore (before: number): number {
    return this.#s.purge.run(before).changes
  }
}
