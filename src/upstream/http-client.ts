/** One undici Agent per tenant process (made, and undici loaded, by the first call); every call has a deadline; idempotent calls retry with backoff + jitter. */
import dns, { type LookupAddress } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import type { buildConnector, Dispatcher, FormData } from 'undici'
import { addressProblem, type UpstreamPolicy, type UrlProblem } from '../config/address-policy.js'
import type { Logger } from '../log/logger.js'
import { deadlineFor, sleep } from './abort.js'
import { UpstreamError, upstreamBlocked, upstreamRateLimited, upstreamTimeout, upstreamUnavailable, type Upstream } from './errors.js'
import { LazyAgent } from './undici-lazy.js'

export interface HttpRequest {
  upstream: Upstream
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  url: string
  /** Route label for logs and errors, without ids or CPFs (e.g. "POST /private-consignment/consult"). */
  route: string
  headers?: Record<string, string>
  json?: unknown
  form?: Record<string, string>
  /** A multipart/form-data body (file uploads); undici writes its content type and boundary. */
  multipart?: FormData
  /** Only idempotent calls are retried on 429/5xx/connection errors/timeouts; others are sent exactly once. */
  idempotent: boolean
  /** Per-attempt deadline; defaults to the client's. */
  timeoutMs?: number
  /** The caller's own cancellation (combined with the deadline). */
  signal?: AbortSignal
  /** An answer with a retryable status that is known to be permanent (Kentro's QUEUE_008 503): false = not retried. */
  retryable?: (res: HttpResponse) => boolean
}

export interface HttpResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** Parsed JSON, or the raw text when it is not JSON, or undefined when empty. */
  body: unknown
}

/** What an upstream attempt ended in: the HTTP status class (429 apart), or why there was no answer. */
export type UpstreamOutcome = '2xx' | '3xx' | '4xx' | '429' | '5xx' | 'timeout' | 'network' | 'blocked' | 'cancelled'

/** One attempt, reported to the metrics (labels are the upstream's name, the route label and the outcome: no values). */
export interface UpstreamCallReport {
  upstream: Upstream
  route: string
  outcome: UpstreamOutcome
  seconds: number
}

const statusOutcome = (status: number): UpstreamOutcome =>
  status === 429 ? '429' : status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx'

export interface HttpClientOptions {
  logger: Logger
  /** Told about every attempt once it ends (the tenant's metrics). */
  onCall?: (call: UpstreamCallReport) => void
  /** Per-attempt deadline (default 15 s). */
  timeoutMs?: number
  /** Retries after the first attempt, for idempotent calls (default 3). */
  retries?: number
  /** Base backoff (default 200 ms), doubled per attempt, with jitter; capped at maxBackoffMs (default 5 s). */
  backoffMs?: number
  maxBackoffMs?: number
  /** A Retry-After longer than this is not waited for: the call fails with upstream_rate_limited (default 10 s). */
  maxRetryAfterMs?: number
  /** Sockets per upstream origin (default 32). */
  connections?: number
  /**
   * Where connections may go, read at each connect (address-policy.ts): every address a host name resolves to, and
   * an address written in the URL, is checked before the socket opens, so a public name that resolves to a private
   * or loopback address is refused too. Every tenant passes its policy; without one nothing is checked (unit tests).
   */
  addressPolicy?: () => UpstreamPolicy
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504])

export class HttpClient {
  readonly #agent: LazyAgent
  readonly #opts: Required<Omit<HttpClientOptions, 'logger' | 'connections' | 'addressPolicy' | 'onCall'>>
  readonly #onCall: ((call: UpstreamCallReport) => void) | undefined
  readonly #logger: Logger

  constructor (opts: HttpClientOptions) {
    this.#logger = opts.logger
    this.#onCall = opts.onCall
    const policy = opts.addressPolicy
    this.#agent = new LazyAgent((u) => new u.Agent({
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      connections: opts.connections ?? 32,
      ...(policy ? { connect: guardedConnector(u.buildConnector, policy, this.#logger) } : {}),
    }))
    this.#opts = {
      timeoutMs: opts.timeoutMs ?? 15_000,
      retries: opts.retries ?? 3,
      backoffMs: opts.backoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 5_000,
      maxRetryAfterMs: opts.maxRetryAfterMs ?? 10_000,
      sleep: opts.sleep ?? sleep,
    }
  }

  /**
   * Send one request. Returns any HTTP answer (4xx/5xx/429 included) for the caller to map (see rateLimited());
   * network failures and deadlines become UpstreamErrors.
   */
  async send (req: HttpRequest): Promise<HttpResponse> {
    const attempts = req.idempotent ? this.#opts.retries + 1 : 1
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse
      try {
        res = await this.#once(req)
      } catch (err) {
        const mapped = this.#mapError(req, err)
        if (req.signal?.aborted || attempt >= attempts || mapped.code === 'upstream_endereco_bloqueado') throw mapped
        await this.#pause(req, this.#backoff(attempt))
        continue
      }
      if (RETRYABLE_STATUS.has(res.status) && attempt < attempts && (req.retryable?.(res) ?? true)) {
        const retryAfter = retryAfterMs(res.headers)
        if (retryAfter === undefined || retryAfter <= this.#opts.maxRetryAfterMs) {
          await this.#pause(req, retryAfter ?? this.#backoff(attempt))
          continue
        }
      }
      return res
    }
  }

  async #pause (req: HttpRequest, ms: number): Promise<void> {
    try {
      await this.#opts.sleep(ms, req.signal)
    } catch (err) {
      throw upstreamUnavailable(req.upstream, req.route, 'requisição cancelada', err, false)
    }
  }

  async #once (req: HttpRequest): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs ?? this.#opts.timeoutMs
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
    let body: string | FormData | undefined
    if (req.multipart !== undefined) {
      body = req.multipart
    } else if (req.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(req.json)
    } else if (req.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(req.form).toString()
    }
    const started = performance.now()
    const log = (fields: Record<string, unknown>): void =>
      this.#logger.debug({ upstream: req.upstream, method: req.method, route: req.route, ms: Math.round(performance.now() - started), ...fields }, 'upstream call')
    const report = (outcome: UpstreamOutcome): void => {
      this.#onCall?.({ upstream: req.upstream, route: req.route, outcome, seconds: (performance.now() - started) / 1000 })
    }
    let text: string
    let res: Dispatcher.ResponseData
    const deadline = deadlineFor(timeoutMs, req.signal)
    try {
      const { agent, request } = await this.#agent.get()
      res = await request(req.url, { method: req.method, headers, body: body ?? null, signal: deadline.signal, dispatcher: agent })
      // Always read the body to the end, so the socket goes back to the pool.
      text = await res.body.text()
    } catch (err) {
      const timedOut = deadline.timedOut() && !req.signal?.aborted
      log({ error: timedOut ? 'timeout' : ((err as NodeJS.ErrnoException)?.code ?? 'error') })
      report(timedOut ? 'timeout' : req.signal?.aborted ? 'cancelled' : err instanceof BlockedAddressError ? 'blocked' : 'network')
      if (timedOut) throw upstreamTimeout(req.upstream, req.route, timeoutMs, err)
      throw err
    } finally {
      deadline.release()
    }
    log({ status: res.statusCode })
    report(statusOutcome(res.statusCode))
    let parsed: unknown
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text)
      } catch {
        // Not JSON: shape checks will say so; error paths use the text as the reason.
        parsed = text
      }
    }
    return { status: res.statusCode, headers: res.headers, body: parsed }
  }

  #mapError (req: HttpRequest, err: unknown): UpstreamError {
    if (err instanceof UpstreamError) return err
    if (req.signal?.aborted) return upstreamUnavailable(req.upstream, req.route, 'requisição cancelada', err, false)
    const code = (err as NodeJS.ErrnoException)?.code ?? ''
    if (err instanceof BlockedAddressError) return upstreamBlocked(req.upstream, req.route, err.problem, err)
    // Refused or unresolvable: the request never left, so even a creation may safely be sent again later.
    if (code === 'ECONNREFUSED') return upstreamUnavailable(req.upstream, req.route, 'conexão recusada', err, false)
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return upstreamUnavailable(req.upstream, req.route, 'host não encontrado', err, false)
    const reason = ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'].includes(code) ? 'conexão interrompida' : 'erro de rede'
    return upstreamUnavailable(req.upstream, req.route, reason, err)
  }

  /** Exponential backoff with jitter: uniformly in [cap/2, cap]. */
  #backoff (attempt: number): number {
    const cap = Math.min(this.#opts.maxBackoffMs, this.#opts.backoffMs * 2 ** (attempt - 1))
    return Math.round(cap / 2 + Math.random() * (cap / 2))
  }

  async close (): Promise<void> {
    await this.#agent.close()
  }
}

/** A connection the address policy refused before any byte left. */
class BlockedAddressError extends Error {
  override name = 'BlockedAddressError'
  readonly code = 'ERR_UPSTREAM_ADDRESS_BLOCKED'
  constructor (readonly host: string, readonly address: string, readonly problem: UrlProblem) {
    super(`connection to ${host} (${address}) refused by the upstream address policy: ${problem}`)
  }
}

const unbracket = (host: string): string => host.replace(/^\[(.*)\]$/, '$1')

/**
 * undici's connector with a DNS lookup that checks every resolved address (all of them: a name resolving to a public
 * and a private address is refused), and a check of addresses written in the URL (no lookup happens for those).
 */
export function guardedConnector (build: typeof buildConnector, policy: () => UpstreamPolicy, logger: Logger): buildConnector.connector {
  const refuse = (host: string, address: string, problem: UrlProblem): BlockedAddressError => {
    logger.warn({ host, address, problem }, 'upstream: connection refused by the address policy')
    return new BlockedAddressError(host, address, problem)
  }
  const lookup: LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0)
      for (const a of addresses) {
        const problem = addressProblem(hostname, a.address, policy())
        if (problem) return callback(refuse(hostname, a.address, problem), '', 0)
      }
      if (options.all) return callback(null, addresses)
      const first = addresses[0]
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0)
      callback(null, first.address, first.family)
    })
  }
  const connect = build({ lookup })
  return (options, callback) => {
    const literal = unbracket(options.hostname)
    if (isIP(literal) !== 0) {
      const problem = addressProblem(literal, literal, policy())
      if (problem) return callback(refuse(literal, literal, problem), null)
    }
    connect(options, callback)
  }
}

function header (headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** The upstream_rate_limited error for a 429 answer, with its Retry-After in seconds. */
export function rateLimited (upstream: Upstream, route: string, res: HttpResponse): UpstreamError {
  const ms = retryAfterMs(res.headers)
  return upstreamRateLimited(upstream, route, ms === undefined ? undefined : Math.ceil(ms / 1000))
}

/** Retry-After as delta-seconds or an HTTP date, in ms. */
export function retryAfterMs (headers: HttpResponse['headers'], now = Date.now()): number | undefined {
  const v = header(headers, 'retry-after')?.trim()
  if (!v) return undefined
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
