/**
 * One log line per request, written when the response is done: method, URL, status, time, client address, user agent.
 *
 * Fastify's default is two lines per request (on arrival and on completion, plus a third for a 404), each carrying
 * the request's headers through redaction and the masking hook; at the request rates a tenant can serve, that
 * doubled the logging cost of every route for lines that say nothing the completion line does not. Fastify's other
 * lines (errors, serializer and stream failures) are kept. A 5xx answer's line is a warning, so a route that lowers
 * its own noise with `logLevel: 'warn'` (the /health probe) logs nothing when all is well and every probe that
 * finds trouble.
 *
 * What a caller chooses is bounded and masked before it reaches a line: the URL (CPFs in any separator style or
 * encoding, key-shaped tokens, the tenant's secrets; at most URL_LOG_MAX characters) and the user agent. Answers an
 * attacker can produce at will without a key (401 wrong key, 429 locked out or limited) are sampled.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import { maskUrl, secretScrubber, type SecretScrubber } from '../log/mask.js'
import { redactWebhookPath } from './webhook-path.js'

export const URL_LOG_MAX = 512
export const USER_AGENT_LOG_MAX = 160

export interface RequestLogOptions {
  /** The tenant's secrets in force (masked in URLs in every encoding). */
  secrets?: () => readonly string[]
  now?: () => number
  /** Lines per status per minute logged in full before sampling starts (default 30). */
  noiseBudget?: number
  /** Beyond the budget, one line in this many is logged (default 100). */
  noiseOneIn?: number
}

/** pino's isLevelEnabled (a logger without it, e.g. a test double, logs everything it is given). */
const levelEnabled = (log: FastifyReply['log'], level: 'error' | 'warn' | 'info'): boolean =>
  (log as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled?.(level) ?? true

const SAMPLED_STATUSES = new Set([401, 429])
const WINDOW_MS = 60_000

export class RequestLog extends LogController {
  /** The tenant's secrets in force, with their encoded forms kept for this log's own use. */
  readonly #scrub: SecretScrubber
  readonly #now: () => number
  readonly #budget: number
  readonly #oneIn: number
  readonly #windows = new Map<number, { start: number; seen: number; suppressed: number }>()

  constructor (opts: RequestLogOptions = {}) {
    super()
    this.#scrub = secretScrubber(opts.secrets ?? (() => []))
    this.#now = opts.now ?? Date.now
    this.#budget = opts.noiseBudget ?? 30
    this.#oneIn = opts.noiseOneIn ?? 100
  }

  override incomingRequest (): void {}

  /** The completion line says 404 already. */
  override routeNotFound (): void {}

  override requestCompleted (error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(req)) return
    // Nothing is masked or built for a line its level would drop (a healthy /health probe under logLevel 'warn').
    if (!levelEnabled(reply.log, error ? 'error' : reply.statusCode >= 500 ? 'warn' : 'info')) return
    let sampled: number | undefined
    if (SAMPLED_STATUSES.has(reply.statusCode)) {
      sampled = this.#sample(reply)
      if (sampled === 0) return
    }
    const ua = req.headers['user-agent']
    const line = {
      method: req.method,
      url: maskUrl(redactWebhookPath(req.url), this.#scrub, URL_LOG_MAX),
      statusCode: reply.statusCode,
      responseTime: Math.round(reply.elapsedTime * 10) / 10,
      remoteAddress: req.ip,
      ...(typeof ua === 'string' ? { userAgent: maskUrl(ua, this.#scrub, USER_AGENT_LOG_MAX) } : {}),
      ...(sampled !== undefined && sampled > 1 ? { sampled: `1/${sampled}` } : {}),
    }
    if (error) reply.log.error({ ...line, err: error }, 'request errored')
    else if (reply.statusCode >= 500) reply.log.warn(line, 'request completed')
    else reply.log.info(line, 'request completed')
  }

  /**
   * Whether to log this answer: 1 = in full (within the minute's budget), N = one kept of N, 0 = skipped.
   * When a minute ends with lines skipped, one line says how many.
   */
  #sample (reply: FastifyReply): number {
    const status = reply.statusCode
    const now = this.#now()
    let w = this.#windows.get(status)
    if (!w || now - w.start >= WINDOW_MS) {
      if (w && w.suppressed > 0) {
        reply.log.warn({ statusCode: status, notLogged: w.suppressed }, `${w.suppressed} request lines with status ${status} not logged in the last minute (sampled)`)
      }
      w = { start: now, seen: 0, suppressed: 0 }
      this.#windows.set(status, w)
    }
    w.seen++
    if (w.seen <= this.#budget) return 1
    if ((w.seen - this.#budget) % this.#oneIn === 0) return this.#oneIn
    w.suppressed++
    return 0
  }
}
