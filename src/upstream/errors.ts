/** Upstream failures as AppErrors: a stable code, the tenant-API status, and the upstream's own reason in words. */
import { AppError } from '../errors.js'

export type Upstream = 'V8' | 'Kentro' | 'PresençaBank'

/**
 * Tenant-API statuses (UPSTREAM.md §6: upstream failures are 502/503/504):
 * - 502: the upstream answered but refused us or made no sense (credentials, audience, odd shape);
 * - 503: the upstream cannot serve now (5xx, connection errors, its 429, not configured yet) — try later;
 * - 504: no answer in time;
 * - 422: a business refusal for this request (the upstream's own `type` kept as the code);
 * - 404: the upstream does not know the resource.
 * Its 429 becomes our 503 (with `retry_after_s`), not 429: our caller did nothing wrong, the upstream is busy.
 */
export class UpstreamError extends AppError {
  override name = 'UpstreamError'
  constructor (
    code: string,
    message: string,
    statusCode: number,
    readonly upstream: Upstream,
    details?: Record<string, unknown>,
    /** True when the request may have reached the upstream and been acted on (timeouts, resets, 5xx). */
    readonly ambiguous = false,
    options?: { cause?: unknown }
  ) {
    super(code, message, statusCode, details, options)
  }

  /** Worth retrying later (batches reschedule these instead of failing the item). */
  get transient (): boolean {
    return TRANSIENT.has(this.code)
  }
}

const TRANSIENT = new Set(['upstream_timeout', 'upstream_unavailable', 'upstream_rate_limited'])

export const upstreamTimeout = (upstream: Upstream, route: string, ms: number, cause?: unknown): UpstreamError =>
  new UpstreamError('upstream_timeout', `${upstream} não respondeu em ${Math.max(1, Math.round(ms / 1000))} s (${route}).`, 504, upstream, { rota: route }, true, { cause })

/** `ambiguous` false when the request surely never left (connection refused, unknown host). */
export const upstreamUnavailable = (upstream: Upstream, route: string, reason: string, cause?: unknown, ambiguous = true): UpstreamError =>
  new UpstreamError('upstream_unavailable', `${upstream} indisponível (${route}): ${reason}`, 503, upstream, { rota: route, motivo: reason }, ambiguous, { cause })

export const upstreamRateLimited = (upstream: Upstream, route: string, retryAfterS?: number): UpstreamError =>
  new UpstreamError(
    'upstream_rate_limited',
    `${upstream} pediu para reduzir o ritmo (429) em ${route}${retryAfterS ? `; tente de novo em ${retryAfterS} s` : ''}.`,
    503,
    upstream,
    { rota: route, ...(retryAfterS ? { retry_after_s: retryAfterS } : {}) }
  )

export const upstreamInvalidResponse = (upstream: Upstream, route: string, problem: string): UpstreamError =>
  new UpstreamError('upstream_invalid_response', `${upstream} respondeu em formato inesperado (${route}): ${problem}`, 502, upstream, { rota: route })

export const upstreamNotFound = (upstream: Upstream, route: string, text: string): UpstreamError =>
  new UpstreamError(`${upstream === 'V8' ? 'v8' : upstream === 'Kentro' ? 'kentro' : 'presenca'}_not_found`, `${upstream} não encontrou o recurso (${route}): ${text}`, 404, upstream, { rota: route, motivo: text })

/**
 * A business refusal (4xx) with the upstream's own text. The code is the upstream's `type` when it gives a
 * snake_case one, lower-cased (V8's `simulation_not_eligible`, `consult_already_exists_by_user_and_document_number`: stable
 * identifiers callers branch on), else `upstream_rejected`; `details.tipo` always holds the upstream's type.
 */
export const upstreamRejected = (upstream: Upstream, route: string, status: number, type: string | undefined, text: string): UpstreamError =>
  new UpstreamError(
    type && /^[a-z][a-z0-9_]{2,80}$/i.test(type) ? type.toLowerCase() : 'upstream_rejected',
    `${upstream} recusou (${route}): ${text}`,
    status >= 500 ? 502 : 422,
    upstream,
    { rota: route, status_upstream: status, ...(type ? { tipo: type } : {}), motivo: text }
  )

export const notConfigured = (upstream: Upstream, code: string, what: string): UpstreamError =>
  new UpstreamError(code, `${upstream} não configurado para esta porta: ${what}`, 503, upstream)

/** Best human-readable reason from an upstream error body (V8 {type,title,detail}, Auth0 {error,error_description}, Kentro {message}). */
export function reasonOf (body: unknown, fallback: string): { type?: string; text: string } {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>
    const type = [b['type'], b['error'], b['code']].find((v): v is string => typeof v === 'string' && v.length > 0)
    // class-validator answers carry `message` as a list of strings ("signerPhone.phoneNumber must be a string").
    const message = Array.isArray(b['message']) ? b['message'].filter((m) => typeof m === 'string').join('; ') : b['message']
    const text = [b['detail'], b['error_description'], message, b['title'], b['mensagem']].find((v): v is string => typeof v === 'string' && v.length > 0)
    return { ...(type ? { type } : {}), text: (text ?? type ?? fallback).slice(0, 300) }
  }
  if (typeof body === 'string' && body.trim()) return { text: body.trim().slice(0, 300) }
  return { text: fallback }
}
