/** At most `limit` calls in any window (sliding): callers wait in arrival order, woken by one timer, never polling. */

export interface RateLimiterOptions {
  /** Calls allowed per window; a function is read at each call, so a config change applies at once. */
  limit: number | (() => number)
  /** Window length (default 1000 ms: `limit` is then calls per second). */
  windowMs?: number
  now?: () => number
}

interface Waiter {
  resolve(): void
  reject(reason: unknown): void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

export class RateLimiter {
  readonly #limit: () => number
  readonly #windowMs: number
  readonly #now: () => number
  /** Start times of the calls granted within the last window, oldest first. */
  #granted: number[] = []
  readonly #queue: Waiter[] = []
  #timer: NodeJS.Timeout | undefined

  /** `new RateLimiter(10)` is 10 calls per second. */
  constructor (opts: RateLimiterOptions | number | (() => number)) {
    const o = typeof opts === 'object' ? opts : { limit: opts }
    const limit = o.limit
    this.#limit = typeof limit === 'function' ? () => Math.max(1, Math.floor(limit())) : () => Math.max(1, Math.floor(limit))
    this.#windowMs = o.windowMs ?? 1000
    this.#now = o.now ?? (() => performance.now())
  }

  /** Calls waiting for a slot. */
  get waiting (): number {
    return this.#queue.length
  }

  /** Resolves when the caller may make its call (first come, first served); rejects if `signal` aborts first. */
  acquire (signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.#queue.length === 0 && this.#tryGrant()) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined }
      if (signal) {
        waiter.onAbort = () => {
          const i = this.#queue.indexOf(waiter)
          if (i >= 0) this.#queue.splice(i, 1)
          if (this.#queue.length === 0 && this.#timer) {
            clearTimeout(this.#timer)
            this.#timer = undefined
          }
          reject(signal.reason)
        }
        signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      this.#queue.push(waiter)
      // Re-evaluate the head now: the limit may have risen since the timer was set.
      this.#pump()
    })
  }

  #tryGrant (): boolean {
    const now = this.#now()
    while (this.#granted.length > 0 && this.#granted[0]! <= now - this.#windowMs) this.#granted.shift()
    if (this.#granted.length >= this.#limit()) return false
    this.#granted.push(now)
    return true
  }

  #pump (): void {
    while (this.#queue.length > 0 && this.#tryGrant()) {
      const w = this.#queue.shift()!
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort)
      w.resolve()
    }
    this.#schedule()
  }

  /** One timer, set for when the oldest grant leaves the window. */
  #schedule (): void {
    if (this.#timer || this.#queue.length === 0) return
    const oldest = this.#granted[0]
    const wait = oldest === undefined ? 0 : Math.max(0, oldest + this.#windowMs - this.#now())
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#pump()
    }, Math.ceil(wait))
  }
}
