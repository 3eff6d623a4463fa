/** Waiting that an AbortSignal can end: an abort rejects with the signal's reason, as every wait in this project does. */
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
