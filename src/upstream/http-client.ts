/** One undici Agent per tenant process; every call has a deadline; idempotent calls retry with backoff + jitter. */
import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici'
import type { Logger } from '../log/logger.js'
import { UpstreamError, upstreamRateLimited, upstreamTimeout, upstreamUnavailable, type Upstream } from './errors.js'

export interface HttpRequest {
  upstream: Upstream
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  url: string
  /** Route label for logs and errors, without ids or CPFs (e.g. "POST /private-consignment/consult"). */
  route: string
  headers?: Record<string, string>
  json?: unknown
  form?: Record<string, string>
  /** Only idempotent calls are retried on 429/5xx/connection errors. */
  idempotent: boolean
  timeoutMs?: number
  signal?: AbortSignal
}

export interface HttpResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

export interface HttpClientOptions {
  logger: Logger
  /** Per-attempt deadline (default 15 s). */
  timeoutMs?: number
  /** Retries after the first attempt, for idempotent calls (default 3). */
  retries?: number
  /** Base backoff (default 200 ms), doubled per attempt, with full jitter; capped at maxBackoffMs. */
  backoffMs?: number
  maxBackoffMs?: number
  connections?: number
  sleep?: (ms: number) => Promise<void>
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504])

export class HttpClient {
  readonly #agent: Agent
  readonly #opts: Required<Omit<HttpClientOptions, 'logger' | 'connections'>>
  readonly #logger: Logger

  constructor(opts: HttpClientOptions) {
    this.#logger = opts.logger
    this.#agent = new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connections: opts.connections ?? 64 })
    this.#opts = {
      timeoutMs: opts.timeoutMs ?? 15_000,
      retries: opts.retries ?? 3,
      backoffMs: opts.backoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 5_000,
      sleep: opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    }
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const attempts = req.idempotent ? this.#opts.retries + 1 : 1
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.#once(req)
        if (req.idempotent && attempt < attempts && RETRYABLE_STATUS.has(res.status)) {
          await this.#opts.sleep(this.#delay(attempt, retryAfterMs(res.headers)))
          continue
        }
        if (res.status === 429) throw upstreamRateLimited(req.upstream, req.route, retryAfterSeconds(res.headers))
        return res
      } catch (err) {
        const mapped = this.#mapError(req, err)
        if (req.signal?.aborted) throw mapped
        if (req.idempotent && attempt < attempts && mapped.code !== 'upstream_rate_limited') {
          await this.#opts.sleep(this.#delay(attempt))
          continue
        }
        throw mapped
      }
    }
  }

  async #once(req: HttpRequest): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs ?? this.#opts.timeoutMs
    const deadline = AbortSignal.timeout(timeoutMs)
    const signal = req.signal ? AbortSignal.any([deadline, req.signal]) : deadline
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
    let body: string | undefined
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(req.json)
    } else if (req.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(req.form).toString()
    }
    const started = performance.now()
    let res: Dispatcher.ResponseData
    try {
      res = await request(req.url, { method: req.method, headers, body: body ?? null, signal, dispatcher: this.#agent })
    } catch (err) {
      if (deadline.aborted) throw upstreamTimeout(req.upstream, req.route, timeoutMs, err)
      throw err
    }
    let text: string
    try {
      text = await res.body.text()
    } catch (err) {
      if (deadline.aborted) throw upstreamTimeout(req.upstream, req.route, timeoutMs, err)
      throw err
    }
    const ms = Math.round(performance.now() - started)
    this.#logger.debug({ upstream: req.upstream, route: req.route, status: res.statusCode, ms }, 'upstream call')
    let parsed: unknown = text
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text)
      } catch {
        // not JSON: callers validating the shape will say so; error paths use the text as the reason
      }
    } else {
      parsed = undefined
    }
    return { status: res.statusCode, headers: res.headers, body: parsed }
  }

  #mapError(req: HttpRequest, err: unknown): UpstreamError {
    if (err instanceof UpstreamError) return err
    if (req.signal?.aborted) return upstreamUnavailable(req.upstream, req.route, 'requisição cancelada', err)
    const e = err as NodeJS.ErrnoException
    const reason =
      err instanceof undiciErrors.SocketError || e?.code === 'ECONNRESET' || e?.code === 'UND_ERR_SOCKET'
        ? 'conexão interrompida'
        : e?.code === 'ECONNREFUSED'
          ? 'conexão recusada'
          : e?.code === 'ENOTFOUND'
            ? 'host não encontrado'
            : (e?.message ?? 'erro de rede')
    return upstreamUnavailable(req.upstream, req.route, reason, err)
  }

  #delay(attempt: number, retryAfter?: number): number {
    if (retryAfter !== undefined) return Math.min(retryAfter, this.#opts.maxBackoffMs * 4)
    const cap = Math.min(this.#opts.maxBackoffMs, this.#opts.backoffMs * 2 ** (attempt - 1))
    return Math.round(cap / 2 + Math.random() * (cap / 2))
  }

  async close(): Promise<void> {
    await this.#agent.close()
  }
}

function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

function retryAfterSeconds(headers: HttpResponse['headers']): number | undefined {
  const ms = retryAfterMs(headers)
  return ms === undefined ? undefined : Math.ceil(ms / 1000)
}

/** Retry-After as delta-seconds or an HTTP date. */
export function retryAfterMs(headers: HttpResponse['headers'], now = Date.now()): number | undefined {
  const v = header(headers, 'retry-after')
  if (!v) return undefined
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
