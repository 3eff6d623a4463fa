/**
 * Evenly spaced calls (at most `perMinute`, one every 60 000 / perMinute ms), first come first served, on an
 * injected clock and sleep. A caller may refuse to wait longer than it can afford: `PacingWait` says how long.
 */

export interface PacerOptions {
  /** Calls per minute; read at each call, so a config change applies at once. */
  perMinute: () => number
  now: () => number
  /** Waits `ms` (rejects with the signal's reason when it aborts). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
}

/** Thrown (nothing reserved) when the next free slot is further away than the caller's `maxWaitMs`. */
export class PacingWait extends Error {
  override name = 'PacingWait'
  constructor (readonly waitMs: number) {
    super(`next call slot in ${Math.ceil(waitMs)} ms`)
  }
}

export class Pacer {
  readonly #o: PacerOptions
  /** Earliest start of the next call. */
  #next = Number.NEGATIVE_INFINITY
  #waiting = 0

  constructor (opts: PacerOptions) {
    this.#o = opts
  }

  intervalMs (): number {
    return 60_000 / Math.max(1, this.#o.perMinute())
  }

  /** How long a call asked for now would wait. */
  delayMs (): number {
    return Math.max(0, this.#next - this.#o.now())
  }

  /** Callers sleeping until their slot. */
  get waiting (): number {
    return this.#waiting
  }

  /**
   * Reserve the next slot and wait for it. With `maxWaitMs`, a slot further away is not taken: PacingWait is thrown
   * at once. An abort while waiting gives the slot back when nobody reserved one after it.
   */
  async acquire (opts: { signal?: AbortSignal | undefined; maxWaitMs?: number | undefined } = {}): Promise<void> {
    opts.signal?.throwIfAborted()
    const now = this.#o.now()
    const at = Math.max(now, this.#next)
    if (opts.maxWaitMs !== undefined && at - now > opts.maxWaitMs) throw new PacingWait(at - now)
    const interval = this.intervalMs()
    this.#next = at + interval
    if (at <= now) return
    this.#waiting++
    try {
      await this.#o.sleep(at - now, opts.signal)
    } catch (err) {
      if (this.#next === at + interval) this.#next = at
      throw err
    } finally {
      this.#waiting--
    }
  }
}
