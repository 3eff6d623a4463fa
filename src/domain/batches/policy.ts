/** How a batch item's flow result or thrown error turns into a final outcome or a retry later. */
import { AppError } from '../../errors.js'
import { UpstreamError } from '../../upstream/errors.js'

export interface RetryPolicy {
  /** Consecutive transient failures tolerated before the item fails. */
  maxTransientRetries: number
  /** First transient backoff; doubles each time up to `retryMaxMs`. */
  retryBaseMs: number
  retryMaxMs: number
  /** Bounds for the flow's own `retryAfterMs` on a pending consult. */
  pendingMinMs: number
  pendingMaxMs: number
  /** How long an item may stay pending upstream (from its first run) before it fails. */
  maxPendingMs: number
  /** Claims of one item (pending polls and crashed runs included) before it fails. */
  maxAttempts: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxTransientRetries: 20,
  retryBaseMs: 500,
  retryMaxMs: 60_000,
  pendingMinMs: 250,
  pendingMaxMs: 5 * 60_000,
  maxPendingMs: 6 * 60 * 60_000,
  maxAttempts: 1000,
}

const TRANSIENT_STATUS = new Set([429, 502, 503, 504])

/** Upstream trouble worth trying again later (timeouts, 5xx, 429); business refusals and bugs are not. */
export function isTransient (err: unknown): err is AppError {
  if (err instanceof UpstreamError) return err.transient
  return err instanceof AppError && TRANSIENT_STATUS.has(err.statusCode)
}

/** Exponential backoff with jitter (50–100 % of the step), never below an upstream's Retry-After. */
export function transientDelayMs (policy: RetryPolicy, retries: number, err: AppError, random: () => number): number {
  const step = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.max(0, retries - 1))
  const jittered = step * (0.5 + 0.5 * random())
  const retryAfterS = err.details?.['retry_after_s']
  const floor = typeof retryAfterS === 'number' && retryAfterS > 0 ? Math.min(retryAfterS * 1000, policy.retryMaxMs) : 0
  return Math.round(Math.max(jittered, floor))
}

/** The flow's suggested wait, bounded, plus up to 20 % jitter so items polled together spread out. */
export function pendingDelayMs (policy: RetryPolicy, retryAfterMs: number, random: () => number): number {
  const base = Math.min(policy.pendingMaxMs, Math.max(policy.pendingMinMs, Number.isFinite(retryAfterMs) ? retryAfterMs : policy.pendingMinMs))
  return Math.round(base * (1 + 0.2 * random()))
}
