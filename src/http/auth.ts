/**
 * Bearer secret check (API key, console admin key, metrics token), constant time, behind a per-client limit on wrong
 * secrets; every tenant route but /health, the page shell and V8's webhooks sits behind it.
 *
 * Wrong keys are counted per client address before any key is checked: an address that sent
 * AUTH_FAILURES_PER_MINUTE wrong keys within a minute is answered 429 (with Retry-After) for AUTH_LOCKOUT_SECONDS,
 * whatever it sends, and then starts afresh. Other addresses are never affected. IPv6 clients are counted per /64
 * (one subscriber's block), IPv4-mapped addresses as IPv4. Successes never clear the count: a bot with the right
 * key behind the same NAT as a guesser must not buy the guesser more tries.
 */
import { hash, timingSafeEqual } from 'node:crypto'
import { isIPv6 } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { LRUCache } from 'lru-cache'
import { AppError } from '../errors.js'

/** One-shot SHA-256 (crypto.hash: no Hash object per call). */
const digest = (s: string): Buffer => hash('sha256', s, 'buffer')

export interface AuthLimits {
  /** Wrong keys an address may send per minute before it is locked out. */
  failuresPerMinute: number
  lockoutSeconds: number
}

interface Entry {
  windowStart: number
  failures: number
  lockedUntil: number
}

const WINDOW_MS = 60_000

/** The address wrong keys are counted against: IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 by its /64. */
export function clientKey (ip: string): string {
  const mapped = ip.startsWith('::') ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip) : null
  if (mapped) return mapped[1]!
  if (!ip.includes(':') || !isIPv6(ip)) return ip
  const [head = '', tail = ''] = ip.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === '' ? [] : tail.split(':')
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`
}

export class AuthFailureGuard {
  readonly #entries: LRUCache<string, Entry>
  readonly #limits: () => AuthLimits
  readonly #now: () => number

  /** `maxTracked` bounds the memory a flood of distinct addresses can take (the least recent are forgotten). */
  constructor (limits: () => AuthLimits, now: () => number = Date.now, maxTracked = 20_000) {
    this.#limits = limits
    this.#now = now
    this.#entries = new LRUCache({ max: maxTracked })
  }

  /**
   * Before the key is checked: ms until this address may try again (0 = go ahead). Locks the address the moment
   * its allowance is spent; `lockedNow` says this call started the lockout (log it once).
   */
  admit (key: string): { waitMs: number; lockedNow: boolean; failures: number } {
    const now = this.#now()
    const e = this.#entries.get(key)
    if (!e) return { waitMs: 0, lockedNow: false, failures: 0 }
    if (e.lockedUntil > now) return { waitMs: e.lockedUntil - now, lockedNow: false, failures: e.failures }
    if (e.lockedUntil !== 0 || now - e.windowStart >= WINDOW_MS) {
      // A lockout served or a quiet minute: start afresh.
      this.#entries.delete(key)
      return { waitMs: 0, lockedNow: false, failures: 0 }
    }
    const { failuresPerMinute, lockoutSeconds } = this.#limits()
    if (e.failures < failuresPerMinute) return { waitMs: 0, lockedNow: false, failures: e.failures }
    e.lockedUntil = now + lockoutSeconds * 1000
    return { waitMs: lockoutSeconds * 1000, lockedNow: true, failures: e.failures }
  }

  /** After a wrong key. */
  fail (key: string): void {
    const now = this.#now()
    const e = this.#entries.get(key)
    if (!e || now - e.windowStart >= WINDOW_MS) this.#entries.set(key, { windowStart: now, failures: 1, lockedUntil: 0 })
    else e.failures++
  }

  /** Addresses currently tracked (for tests and metrics). */
  get size (): number {
    return this.#entries.size
  }
}

/** Why a request was refused: a wrong secret (counted against the address), none at all, or a locked-out address. */
export type BearerFailure = 'wrong_key' | 'no_key' | 'locked_out'

/** How a refusal reads: the 401 and 429 answers and the lockout log line name the secret expected. */
export interface BearerWording {
  /** The 401 message: what is missing or wrong and how to send it. */
  unauthorized: string
  /** The 429 message, given the seconds until the address may try again. */
  tooMany: (seconds: number) => string
  /** The log line when an address gets locked out. */
  lockedLog: string
}

const API_KEY_WORDING: BearerWording = {
  unauthorized: 'Chave de API ausente ou inválida: envie Authorization: Bearer <API_KEY>.',
  tooMany: (seconds) => `Muitas chaves de API erradas deste endereço; tente de novo em ${seconds} s.`,
  lockedLog: 'auth: client locked out after repeated wrong API keys',
}

/**
 * Build a check of `Authorization: Bearer <secret>` against the secret `current()` returns, run as an onRequest
 * hook (or called first thing in a handler): refuse a locked-out client with 429 before looking at what it sent,
 * then count a wrong secret against the client. The API key, the console's admin key and the metrics token all
 * pass through it; `wording` names the secret in the answers (default: the API key).
 */
export function requireBearer (
  current: () => string,
  guard?: AuthFailureGuard,
  onFailure?: (reason: BearerFailure) => void,
  wording: BearerWording = API_KEY_WORDING
) {
  // The secret's digest is computed again only when the secret changes (a save on the config page), not per request.
  let expected: { key: string; digest: Buffer } | undefined
  const expectedDigest = (): Buffer => {
    const key = current()
    if (expected?.key !== key) expected = { key, digest: digest(key) }
    return expected.digest
  }
  return async function checkBearer (req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const key = guard ? clientKey(req.ip) : ''
    if (guard) {
      const { waitMs, lockedNow, failures } = guard.admit(key)
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000)
        if (lockedNow) req.log.warn({ client: key, failures, lockoutSeconds: seconds }, wording.lockedLog)
        onFailure?.('locked_out')
        throw new AppError('muitas_tentativas_chave', wording.tooMany(seconds), 429, { retry_after_s: seconds })
      }
    }
    const header = req.headers.authorization
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    // Hash both sides so the comparison is constant time whatever the lengths.
    if (!match || !timingSafeEqual(digest(match[1]!), expectedDigest())) {
      // Only a presented secret is a guess; a request without one (the page before the key is typed) costs nothing.
      if (match) guard?.fail(key)
      onFailure?.(match ? 'wrong_key' : 'no_key')
      throw new AppError('nao_autorizado', wording.unauthorized, 401)
    }
  }
}
