/** A per-tenant cap on calls per second: callers queue in order, woken by a timer (no busy loop). */
export class RateLimiter {
  readonly #intervalMs: number
  #next = 0
  readonly #now: () => number

  /** `perSecond` calls at most, spread evenly (one every 1000/perSecond ms). */
  constructor(perSecond: number, now: () => number = () => performance.now()) {
    if (!(perSecond > 0)) throw new Error('rate must be positive')
    this.#intervalMs = 1000 / perSecond
    this.#now = now
  }

  /** Resolves when the caller may make its call; order of arrival is kept. */
  async acquire(signal?: AbortSignal): Promise<void> {
    const now = this.#now()
    // Allow a small burst of one second's worth after idleness, then pace.
    const slot = Math.max(this.#next, now - 1000 + this.#intervalMs)
    this.#next = slot + this.#intervalMs
    const wait = slot - now
    if (wait <= 0) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, wait)
      signal?.addEventListener('abort', () => {
        clearTimeout(timer)
        reject(signal.reason)
      }, { once: true })
    })
  }
}
