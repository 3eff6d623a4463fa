/**
 * The callbacks delivery worker: claims one due event at a time with a lease, POSTs it signed, and records the result;
 * failures back off exponentially with jitter until CALLBACK_MAX_ATTEMPTS, then the event is dead (listed, requeueable).
 * At least once: a process killed mid-delivery leaves a lease its successor reclaims, and the event goes again with
 * the same id. Shutdown stops claiming, lets the delivery in flight finish (bounded), and releases the rest.
 */
import type { Logger } from '../../log/logger.js'
import type { DeliveryResult, Delivery } from '../../upstream/callback.js'
import { holdOwner, isDeadOwner, newLeaseOwner } from '../batches/owner.js'
import type { Outbox } from './outbox.js'

export interface DeliveryWorkerOptions {
  outbox: Outbox
  send: (d: Delivery) => Promise<DeliveryResult>
  /** CALLBACK_URL, CALLBACK_SECRET and CALLBACK_MAX_ATTEMPTS as of now ('' url = nothing is sent). */
  target: () => { url: string; secret: string; maxAttempts: number }
  logger: Logger
  now: () => number
  /** First retry delay; doubles per attempt up to maxBackoffMs (default 2 s → 1 h). */
  baseBackoffMs?: number
  maxBackoffMs?: number
  /** Longest idle wait between looks (a new event wakes the worker at once). */
  pollMs?: number
  /** Longer than one attempt's deadline: a lease older than this belongs to a dead or stuck process. */
  leaseMs?: number
  /** Delivered/dead events older than this are deleted (default 30 days). */
  retentionMs?: number
  random?: () => number
}

const PURGE_EVERY_MS = 60 * 60_000

export class DeliveryWorker {
  readonly owner = newLeaseOwner()
  readonly #o: Required<DeliveryWorkerOptions>
  #loop: Promise<void> | undefined
  #stopping = false
  #inFlight: AbortController | undefined
  #wake: (() => void) | undefined
  #unsubscribe: () => void = () => undefined
  #releaseOwner: () => void = () => undefined
  #lastPurge = 0
  #stopped: Promise<void> | undefined

  constructor (o: DeliveryWorkerOptions) {
    this.#o = { baseBackoffMs: 2_000, maxBackoffMs: 3_600_000, pollMs: 5_000, leaseMs: 60_000, retentionMs: 30 * 86_400_000, random: Math.random, ...o }
  }

  start (): void {
    if (this.#loop || this.#stopping) return
    this.#releaseOwner = holdOwner(this.owner)
    this.#unsubscribe = this.#o.outbox.onEnqueue(() => this.wake())
    this.#loop = this.#run()
  }

  wake (): void {
    this.#wake?.()
  }

  /** The delay before attempt `attempts + 1`: base × 2^(attempts−1), capped, uniformly jittered in [½, 1]. */
  backoffMs (attempts: number): number {
    const cap = Math.min(this.#o.maxBackoffMs, this.#o.baseBackoffMs * 2 ** Math.max(0, attempts - 1))
    return Math.round(cap / 2 + this.#o.random() * (cap / 2))
  }

  /** Stop claiming; the delivery in flight gets `budgetMs`, then it is aborted and its event released (not counted). */
  stop (budgetMs = 5_000): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true
      this.#unsubscribe()
      this.wake()
      if (this.#loop) {
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)))
        await Promise.race([this.#loop, late])
        clearTimeout(timer)
        this.#inFlight?.abort()
        await this.#loop
      }
      try {
        this.#o.outbox.release(this.owner, true)
      } catch (err) {
        this.#o.logger.warn({ err }, 'callbacks: could not release leases at shutdown (they expire on their own)')
      }
      this.#releaseOwner()
    })()
    return this.#stopped
  }

  async #run (): Promise<void> {
    this.#reclaimDead()
    while (!this.#stopping) {
      let worked = false
      try {
        worked = await this.#once()
        this.#maintain()
      } catch (err) {
        if (this.#stopping) return
        this.#o.logger.warn({ err }, 'callbacks: delivery step failed; retrying')
      }
      if (!worked && !this.#stopping) await this.#idle()
    }
  }

  /** Deliver one due event; false when none was due (or no receiver is configured). */
  async #once (): Promise<boolean> {
    const target = this.#o.target()
    if (target.url === '' || target.secret === '') return false
    const claimed = this.#o.outbox.claim(this.owner, this.#o.leaseMs)
    if (!claimed) return false
    const abort = new AbortController()
    this.#inFlight = abort
    let r: DeliveryResult
    try {
      r = await this.#o.send({ url: target.url, secret: target.secret, eventId: claimed.id, type: claimed.type, body: claimed.body, attempt: claimed.attempts, nowMs: this.#o.now(), signal: abort.signal })
    } finally {
      this.#inFlight = undefined
    }
    if (abort.signal.aborted) return true // stop() releases it
    const log = { event: claimed.id, type: claimed.type, attempt: claimed.attempts, status: r.status }
    if (r.ok) {
      this.#o.outbox.markDelivered(this.owner, claimed.id, r.status ?? 200)
      this.#o.logger.info(log, 'callback delivered')
    } else if (claimed.attempts >= target.maxAttempts) {
      this.#o.outbox.markDead(this.owner, claimed.id, { status: r.status, error: r.error })
      this.#o.logger.error({ ...log, error: r.error }, 'callback dead: every attempt failed')
    } else {
      const next = this.#o.now() + this.backoffMs(claimed.attempts)
      this.#o.outbox.markRetry(this.owner, claimed.id, { status: r.status, error: r.error, next })
      this.#o.logger.warn({ ...log, error: r.error, retry_in_ms: next - this.#o.now() }, 'callback failed; will retry')
    }
    return true
  }

  #idle (): Promise<void> {
    let due: number | null = null
    try {
      // Without a receiver, events wait (pending) for one to be configured: look again at the poll interval.
      if (this.#o.target().url !== '') due = this.#o.outbox.nextDueAt()
    } catch {
      // busy or closing: look again after the poll interval
    }
    const delay = due === null ? this.#o.pollMs : Math.min(this.#o.pollMs, Math.max(5, due - this.#o.now() + 1))
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, delay)
      timer.unref()
      function done (): void {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = done
    })
  }

  /** Events a dead process of this host was sending go back to the queue now, not when their lease runs out. */
  #reclaimDead (): void {
    try {
      for (const owner of this.#o.outbox.leaseOwners()) {
        if (isDeadOwner(owner, this.owner)) {
          const n = this.#o.outbox.release(owner, false)
          if (n > 0) this.#o.logger.info({ events: n }, 'callbacks: events of a process that is gone are queued again')
        }
      }
    } catch (err) {
      this.#o.logger.warn({ err }, 'callbacks: could not reclaim leases')
    }
  }

  #maintain (): void {
    const now = this.#o.now()
    if (now - this.#lastPurge < PURGE_EVERY_MS) return
    this.#lastPurge = now
    this.#reclaimDead()
    const purged = this.#o.outbox.purgeBefore(now - this.#o.retentionMs)
    if (purged > 0) this.#o.logger.info({ purged }, 'callbacks: old delivered/dead events deleted')
  }
}
