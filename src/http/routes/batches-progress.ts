/** The `progress` extras of each watched batch (counts by outcome, pace), computed once per change for all its event streams. */

/** The time left is rounded to 5 s: an idle stream's refresh at that pace moves it in the same steps. */
export const PROGRESS_REFRESH_MS = 5000

export interface SharedProgressOptions {
  /** A batch's extras: several queries, two of them over every item of the batch. */
  compute: (batchId: string) => Record<string, unknown>
  /** While nothing changes, compute again this often anyway: the pace and time left follow the clock. */
  refreshMs?: number | undefined
  /** The clock of that refresh. */
  now?: (() => number) | undefined
}

/** One event stream's hold on its batch's extras. */
export interface ProgressShare {
  /** Something about the batch changed in this process (a local notification): what was computed before is stale. */
  changed: () => void
  /**
   * The batch's extras for `state` (what the stream just read of the batch), computed again only when the state
   * moved, after a `changed()`, or once `refreshMs` has passed; else what any stream of the batch had computed.
   */
  extras: (state: string) => Record<string, unknown>
  /** The stream ended; when the batch's last one does, what was kept for the batch goes. */
  leave: () => void
}

interface Entry {
  streams: number
  /** Moved by every local notification, so the next stream to look computes again (once, for all). */
  version: number
  extras: Record<string, unknown> | undefined
  /** The version and state the extras were computed for, and when. */
  key: string
  at: number
}

/**
 * Without this, K streams of one batch computed the same extras K times per change. Entries exist only while a
 * stream of their batch is open, so memory follows the open streams (bounded by EVENT_STREAMS_MAX).
 */
export class SharedProgress {
  readonly #compute: (batchId: string) => Record<string, unknown>
  readonly #refreshMs: number
  readonly #now: () => number
  readonly #batches = new Map<string, Entry>()

  constructor (o: SharedProgressOptions) {
    this.#compute = o.compute
    this.#refreshMs = o.refreshMs ?? PROGRESS_REFRESH_MS
    this.#now = o.now ?? Date.now
  }

  join (batchId: string): ProgressShare {
    let entry = this.#batches.get(batchId)
    if (!entry) {
      entry = { streams: 0, version: 0, extras: undefined, key: '', at: 0 }
      this.#batches.set(batchId, entry)
    }
    const e = entry
    e.streams++
    let left = false
    return {
      changed: () => {
        e.version++
      },
      extras: (state) => {
        const key = `${e.version} ${state}`
        if (e.extras === undefined || key !== e.key || this.#now() - e.at >= this.#refreshMs) {
          e.extras = this.#compute(batchId)
          e.key = key
          e.at = this.#now()
        }
        return e.extras
      },
      leave: () => {
        if (left) return
        left = true
        if (--e.streams === 0) this.#batches.delete(batchId)
      },
    }
  }

  /** How many batches have extras kept: those with a stream open. */
  get watched (): number {
    return this.#batches.size
  }
}
