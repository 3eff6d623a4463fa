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

/** The tenant's address policy refused the connection (a private, link-local or loopback destination); never retried. */
export const upstreamBlocked = (upstream: Upstream, route: string, problem: string, cause?: unknown): UpstreamError =>
  new UpstreamError(
    'upstream_endereco_bloqueado',
    `${upstream} não foi chamado (${route}): o endereço de destino não é público e não está liberado no arquivo da porta (UPSTREAM_ALLOWLIST).`,
    502,
    upstream,
    { rota: route, motivo: problem },
    false,
    { cause }
  )

export const notConfigured = (upstream: Upstream, code: string, what: string): UpstreamError =>
  new UpstreamError(code, `${upstream} não configurado para esta porta: ${what}`, 503, upstream)

/** How much of an upstream's own wording our messages quote. */
export const REASON_MAX = 160

/** An upstream's wording made safe to quote: no markup, no control characters or line breaks, at most REASON_MAX characters. */
export function sanitizeReason (text: string): string {
  const clean = text.replace(/<[^>]*>/g, ' ').replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').replace(/\s+/g, ' ').trim()
  return clean.length <= REASON_MAX ? clean : `${clean.slice(0, REASON_MAX - 1)}…`
}

/**
 * Best human-readable reason from an upstream error body (V8 {type,title,detail}, Auth0 {error,error_description},
 * Kentro {message}), sanitized. A body that is not JSON (an HTML error page, anything from a host that is not the
 * upstream) is never echoed: only its size is told.
 */
export function reasonOf (body: unknown, fallback: string): { type?: string; text: string } {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>
    const type = [b['type'], b['error'], b['code']].find((v): v is string => typeof v === 'string' && v.length > 0 && v.length <= 120)
    // class-validator answers carry `message` as a list of strings ("signerPhone.phoneNumber must be a string").
    const message = Array.isArray(b['message']) ? b['message'].filter((m) => typeof m === 'string').join('; ') : b['message']
    const text = [b['detail'], b['error_description'], message, b['title'], b['mensagem']].find((v): v is string => typeof v === 'string' && v.trim().length > 0)
    return { ...(type ? { type: sanitizeReason(type) } : {}), text: sanitizeReason(text ?? type ?? fallback) || fallback }
  }
  if (typeof body === 'string' && body.trim()) {
    const short = body.trim()
    // A short plain sentence (Kentro's "Missing required data" as text) is kept; pages and blobs are not.
    if (short.length <= REASON_MAX && !/[<>{}]/.test(short)) return { text: sanitizeReason(short) }
    return { text: `${fallback} (resposta não-JSON de ${Buffer.byteLength(body)} bytes)` }
  }
  return { text: fallback }
}
