/** Waiting that an AbortSignal can end (an abort rejects with the signal's reason, as every wait in this project does), and deadlines. */
import { setTimeout as delay } from 'node:timers/promises'

/** The promise, or the signal's reason if it aborts first (the promise itself keeps running for the others sharing it). */
export function raceAbort<T> (p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      }
    )
  })
}

/**
 * Wait `ms`; an abort ends the wait at once and rejects with the signal's reason (node's timer rejects with its own
 * AbortError, which would hide why: a shutdown, a lease taken over, a caller gone).
 */
export async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined)
  } catch (err) {
    if (signal?.aborted) throw signal.reason
    throw err
  }
}

/** One attempt's deadline joined to its caller's signal; `release()` once the attempt has ended. */
export interface Deadline {
  /** Aborts when the time is up (a TimeoutError) or when the caller's signal aborts (with the caller's reason). */
  readonly signal: AbortSignal
  /** Whether it was the time that ran out. */
  timedOut(): boolean
  /** Stop the timer and stop following the caller's signal: nothing of the attempt stays reachable after this. */
  release(): void
}

/**
 * `ms` from now or the caller's abort, whichever comes first. Not `AbortSignal.any([AbortSignal.timeout(ms), caller])`:
 * Node 24 keeps every timeout signal handed to any() reachable until its timer fires, whether or not the call has
 * ended, so each upstream call held ~750 bytes for its whole deadline (15 s): a 2,000-CPF batch (~850 calls/s) kept
 * ~9,000 signals, timers and weak references alive and its live heap grew from 30 to 40 MB (BENCHMARKS.md, batch:
 * tenant peak RSS). Here the timer is cleared and the listener removed when the attempt ends.
 */
export function deadlineFor (ms: number, caller?: AbortSignal): Deadline {
  const controller = new AbortController()
  let expired = false
  const follow = (): void => controller.abort(caller?.reason)
  const timer = setTimeout(() => {
    expired = true
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))
  }, ms)
  // As AbortSignal.timeout's: a deadline alone does not keep the process running.
  timer.unref()
  if (caller?.aborted) follow()
  else caller?.addEventListener('abort', follow, { once: true })
  return {
    signal: controller.signal,
    timedOut: () => expired,
    release () {
      clearTimeout(timer)
      caller?.removeEventListener('abort', follow)
    },
  }
}
