/** Upstream failures as AppErrors: a stable code, the tenant-API status, and the upstream's own reason in words. */
import { AppError } from '../errors.js'

export type Upstream = 'V8' | 'Kentro' | 'PresençaBank'

export class UpstreamError extends AppError {
  override name = 'UpstreamError'
  constructor(
    code: string,
    message: string,
    statusCode: number,
    readonly upstream: Upstream,
    details?: Record<string, unknown>,
    /** True when the request may have reached the upstream and been acted on (timeouts, resets, 5xx). */
    readonly ambiguous = false,
    options?: { cause?: unknown },
  ) {
    super(code, message, statusCode, details, options)
  }

  /** Worth retrying later (batches reschedule these instead of failing the item). */
  get transient(): boolean {
    return ['upstream_timeout', 'upstream_unavailable', 'upstream_rate_limited'].includes(this.code)
  }
}

export const upstreamTimeout = (upstream: Upstream, route: string, ms: number, cause?: unknown): UpstreamError =>
  new UpstreamError('upstream_timeout', `${upstream} não respondeu em ${Math.round(ms / 1000)} s (${route}).`, 504, upstream, { rota: route }, true, { cause })

export const upstreamUnavailable = (upstream: Upstream, route: string, reason: string, cause?: unknown): UpstreamError =>
  new UpstreamError('upstream_unavailable', `${upstream} indisponível (${route}): ${reason}`, 503, upstream, { rota: route, motivo: reason }, true, { cause })

export const upstreamRateLimited = (upstream: Upstream, route: string, retryAfterS?: number): UpstreamError =>
  new UpstreamError(
    'upstream_rate_limited',
    `${upstream} pediu para reduzir o ritmo (429) em ${route}${retryAfterS ? `; tente em ${retryAfterS} s` : ''}.`,
    503,
    upstream,
    { rota: route, ...(retryAfterS ? { retry_after_s: retryAfterS } : {}) },
  )

export const upstreamInvalidResponse = (upstream: Upstream, route: string, problem: string): UpstreamError =>
  new UpstreamError('upstream_invalid_response', `${upstream} respondeu em formato inesperado (${route}): ${problem}`, 502, upstream, { rota: route })

/** A business refusal with the upstream's own type and text (e.g. simulation_not_eligible). */
export const upstreamRejected = (upstream: Upstream, route: string, status: number, type: string | undefined, text: string): UpstreamError =>
  new UpstreamError(
    type ?? 'upstream_rejected',
    `${upstream} recusou (${route}): ${text}`,
    status >= 500 ? 502 : 422,
    upstream,
    { rota: route, status_upstream: status, ...(type ? { tipo: type } : {}), motivo: text },
  )

/** Best human-readable reason from an upstream error body. */
export function reasonOf(body: unknown, fallback: string): { type?: string; text: string } {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>
    const type = [b['type'], b['error'], b['code']].find((v): v is string => typeof v === 'string')
    const text = [b['detail'], b['error_description'], b['message'], b['title']].find((v): v is string => typeof v === 'string' && v.length > 0)
    return { ...(type ? { type } : {}), text: text ?? type ?? fallback }
  }
  if (typeof body === 'string' && body.trim()) return { text: body.trim().slice(0, 300) }
  return { text: fallback }
}
