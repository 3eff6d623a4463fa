/**
 * POSTs to the tenant's CALLBACK_URL, signed: `X-CLT-V8-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`
 * with `X-CLT-V8-Timestamp` (unix seconds) and `X-CLT-V8-Event-Id`. One attempt per call; the outbox retries.
 * README "Eventos para o seu sistema" shows how a client verifies a delivery and refuses replays.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { UpstreamPolicy } from '../config/address-policy.js'
import type { Logger } from '../log/logger.js'
import { deadlineFor } from './abort.js'
import { guardedConnector } from './http-client.js'
import { LazyAgent } from './undici-lazy.js'

export const HEADERS = {
  eventId: 'x-clt-v8-event-id',
  event: 'x-clt-v8-event',
  timestamp: 'x-clt-v8-timestamp',
  signature: 'x-clt-v8-signature',
  attempt: 'x-clt-v8-attempt',
} as const

/** How far a receiver should accept a timestamp from its own clock (older deliveries are replays). */
export const REPLAY_WINDOW_S = 300

/** `v1=<hex>` for this timestamp and body. */
export function signature (secret: string, timestampS: number, body: string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')
}

/**
 * The receiver's check, as a client should write it: a v1 signature of exactly these bytes (constant-time
 * compare) and a timestamp within REPLAY_WINDOW_S of now. Replays inside the window are caught by the event id.
 */
export function verifySignature (secret: string, headers: { timestamp?: string | undefined; signature?: string | undefined }, body: string, nowS: number): boolean {
  const ts = Number(headers.timestamp)
  if (!Number.isInteger(ts) || Math.abs(nowS - ts) > REPLAY_WINDOW_S) return false
  const given = Buffer.from(String(headers.signature ?? '').split(',').map((s) => s.trim()).find((s) => s.startsWith('v1=')) ?? '')
  const expected = Buffer.from(signature(secret, ts, body))
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export interface Delivery {
  url: string
  secret: string
  eventId: string
  type: string
  /** The stored JSON text, sent byte for byte (the signature covers exactly it). */
  body: string
  attempt: number
  nowMs: number
  signal?: AbortSignal
}

/** What one attempt gave: the HTTP status, or a network reason when there was none. */
export type DeliveryResult = { ok: boolean; status: number | null; error: string | null }

export class CallbackSender {
  readonly #agent: LazyAgent
  readonly #timeoutMs: number

  /**
   * `addressPolicy`: the tenant's upstream URL policy, checked at every connect as for the upstreams (https to
   * public hosts unless SANDBOX or UPSTREAM_ALLOWLIST say more), so a callback cannot be aimed at the host's insides.
   */
  constructor (opts: { timeoutMs?: number; addressPolicy?: () => UpstreamPolicy; logger?: Logger } = {}) {
    this.#timeoutMs = opts.timeoutMs ?? 10_000
    const policy = opts.addressPolicy
    const logger = opts.logger
    this.#agent = new LazyAgent((u) => new u.Agent({ keepAliveTimeout: 10_000, connections: 4, ...(policy && logger ? { connect: guardedConnector(u.buildConnector, policy, logger) } : {}) }))
  }

  async send (d: Delivery): Promise<DeliveryResult> {
    const ts = Math.floor(d.nowMs / 1000)
    const deadline = deadlineFor(this.#timeoutMs, d.signal)
    try {
      const { agent, request } = await this.#agent.get()
      const res = await request(d.url, {
        method: 'POST',
        dispatcher: agent,
        signal: deadline.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'clt-v8-callbacks/1',
          [HEADERS.eventId]: d.eventId,
          [HEADERS.event]: d.type,
          [HEADERS.timestamp]: String(ts),
          [HEADERS.signature]: signature(d.secret, ts, d.body),
          [HEADERS.attempt]: String(d.attempt),
        },
        // undici follows no redirect here: a signed body never goes anywhere the tenant did not configure.
        body: d.body,
      })
      await res.body.dump()
      const ok = res.statusCode >= 200 && res.statusCode < 300
      return { ok, status: res.statusCode, error: ok ? null : `HTTP ${res.statusCode}` }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException)?.code
      const blocked = (err as Error)?.name === 'BlockedAddressError' ? `endereço recusado pela política de URLs (${(err as Error).message})` : undefined
      const reason = blocked ?? (deadline.timedOut() ? `sem resposta em ${Math.round(this.#timeoutMs / 1000)} s` : d.signal?.aborted ? 'interrompido (serviço encerrando)' : code ?? (err as Error)?.message ?? 'erro de rede')
      return { ok: false, status: null, error: String(reason).slice(0, 200) }
    } finally {
      deadline.release()
    }
  }

  async close (): Promise<void> {
    await this.#agent.close()
  }
}
