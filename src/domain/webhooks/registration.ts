/**
 * The tenant's V8 webhook registration. V8 signs nothing and registers only `{url}`, so the URL itself is the secret:
 * `${PUBLIC_URL}/webhooks/v8/<secret>/<consult|operation>`, with a random per-tenant secret kept in the tenant's
 * database (generated state, not an operator setting: it survives restarts and config edits, and the operator's
 * file is never rewritten at start). Registered after the server listens (V8 tests the URL before accepting it),
 * again when PUBLIC_URL or the V8 login changes, and retried with backoff while V8 refuses or is away.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Statement } from 'better-sqlite3'
import { webhooksConfigured, type TenantConfig } from '../../config/schema.js'
import type { Db } from '../../db/database.js'
import type { Logger } from '../../log/logger.js'
import type { V8Operations, WebhookKind } from '../../upstream/v8-operations.js'

export const WEBHOOK_KINDS: readonly WebhookKind[] = ['consult', 'operation']
export const WEBHOOK_BASE_PATH = '/webhooks/v8'
const SECRET_KEY = 'v8_webhook_secret'

export type RegistrationStatus = 'registering' | 'registered' | 'failed'

export interface RegistrationView {
  kind: WebhookKind
  status: RegistrationStatus | 'not_configured'
  registeredAt: number | null
  lastError: string | null
  attempts: number
  /** V8's handshake after registering: webhook.test, then webhook.registered. */
  testAt: number | null
  confirmedAt: number | null
}

interface Row {
  kind: WebhookKind
  status: RegistrationStatus
  target: string
  attempts: number
  registered_at: number | null
  last_error: string | null
  test_at: number | null
  confirmed_at: number | null
}

export interface RegistrarOptions {
  db: Db
  v8: Pick<V8Operations, 'registerWebhook'>
  config: () => TenantConfig
  logger: Logger
  now: () => number
  /** First retry after a failed registration; doubles up to maxRetryMs. */
  retryMs?: number
  maxRetryMs?: number
}

export class WebhookRegistrar {
  readonly #o: Required<RegistrarOptions>
  readonly #s: Record<'getSecret' | 'putSecret' | 'get' | 'upsert' | 'handshake' | 'all', Statement>
  readonly #secret: string
  #generation = 0
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #closed = false
  /** Deliveries to a wrong path since start (someone guessing, or a stale registration). */
  refused = 0

  constructor (o: RegistrarOptions) {
    this.#o = { retryMs: 30_000, maxRetryMs: 30 * 60_000, ...o }
    const db = o.db
    this.#s = {
      getSecret: db.prepare('SELECT value FROM tenant_state WHERE key = ?'),
      putSecret: db.prepare('INSERT INTO tenant_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING'),
      get: db.prepare('SELECT * FROM webhook_registrations WHERE kind = ?'),
      upsert: db.prepare(
        `INSERT INTO webhook_registrations (kind, status, target, attempts, registered_at, last_error, updated_at)
         VALUES (@kind, @status, @target, @attempts, @registeredAt, @lastError, @now)
         ON CONFLICT (kind) DO UPDATE SET status = excluded.status, target = excluded.target, attempts = excluded.attempts,
           registered_at = coalesce(excluded.registered_at, registered_at), last_error = excluded.last_error, updated_at = excluded.updated_at,
           test_at = CASE WHEN excluded.status = 'registering' THEN NULL ELSE test_at END,
           confirmed_at = CASE WHEN excluded.status = 'registering' THEN NULL ELSE confirmed_at END`
      ),
      handshake: db.prepare('UPDATE webhook_registrations SET test_at = coalesce(@testAt, test_at), confirmed_at = coalesce(@confirmedAt, confirmed_at) WHERE kind = @kind'),
      all: db.prepare('SELECT * FROM webhook_registrations'),
    }
    // Two processes of one tenant (a reload) race for the first secret: the insert keeps the first, both read it back.
    this.#s.putSecret.run(SECRET_KEY, randomBytes(24).toString('base64url'), o.now())
    this.#secret = (this.#s.getSecret.get(SECRET_KEY) as { value: string }).value
  }

  /** Whether `candidate` is this tenant's path secret (constant time). */
  isSecret (candidate: string): boolean {
    const digest = (s: string): Buffer => createHash('sha256').update(s).digest()
    return timingSafeEqual(digest(candidate), digest(this.#secret))
  }

  /** The URL V8 delivers `kind` events to (holds the secret: never logged or shown). */
  url (kind: WebhookKind): string {
    return `${this.#o.config().PUBLIC_URL.replace(/\/+$/, '')}${WEBHOOK_BASE_PATH}/${this.#secret}/${kind}`
  }

  /** The same URL as an operator may see it. */
  shownUrl (kind: WebhookKind): string {
    return `${this.#o.config().PUBLIC_URL.replace(/\/+$/, '')}${WEBHOOK_BASE_PATH}/***/${kind}`
  }

  /** Register both webhooks now (again), replacing any retry in wait; a no-op without PUBLIC_URL or a V8 login. */
  register (): void {
    if (this.#closed) return
    clearTimeout(this.#timer)
    const generation = ++this.#generation
    if (!webhooksConfigured(this.#o.config())) return
    const previous = this.#running ?? Promise.resolve()
    this.#running = previous.then(() => this.#attempt(generation, 1))
  }

  async #attempt (generation: number, attempt: number): Promise<void> {
    if (this.#closed || generation !== this.#generation) return
    let failed = false
    for (const kind of WEBHOOK_KINDS) {
      const target = this.#target(kind)
      const now = this.#o.now()
      this.#s.upsert.run({ kind, status: 'registering', target, attempts: attempt, registeredAt: null, lastError: null, now })
      try {
        await this.#o.v8.registerWebhook(kind, this.url(kind))
        this.#s.upsert.run({ kind, status: 'registered', target, attempts: attempt, registeredAt: this.#o.now(), lastError: null, now: this.#o.now() })
        this.#o.logger.info({ kind, url: this.shownUrl(kind) }, 'v8 webhook registered')
      } catch (err) {
        failed = true
        const reason = err instanceof Error ? err.message : String(err)
        this.#s.upsert.run({ kind, status: 'failed', target, attempts: attempt, registeredAt: null, lastError: reason.slice(0, 300), now: this.#o.now() })
        this.#o.logger.warn({ kind, attempt, code: (err as { code?: string }).code }, 'v8 webhook registration failed; will retry')
      }
    }
    if (failed && !this.#closed && generation === this.#generation) {
      const delay = Math.min(this.#o.maxRetryMs, this.#o.retryMs * 2 ** (attempt - 1))
      this.#timer = setTimeout(() => {
        this.#running = this.#attempt(generation, attempt + 1)
      }, delay)
      this.#timer.unref()
    }
  }

  /** Which registration a row is for: the URL, the V8 account and API (a new login must register again). */
  #target (kind: WebhookKind): string {
    const c = this.#o.config()
    return createHash('sha256').update(`${this.url(kind)}\n${c.V8_API_URL}\n${c.V8_USERNAME}`).digest('hex').slice(0, 16)
  }

  /** V8's handshake reached us on this kind's URL. */
  handshake (kind: WebhookKind | undefined, type: 'test' | 'registered'): void {
    const now = this.#o.now()
    for (const k of kind ? [kind] : WEBHOOK_KINDS) {
      this.#s.handshake.run({ kind: k, testAt: type === 'test' ? now : null, confirmedAt: type === 'registered' ? now : null })
    }
  }

  status (): RegistrationView[] {
    const configured = webhooksConfigured(this.#o.config())
    const rows = new Map((this.#s.all.all() as Row[]).map((r) => [r.kind, r]))
    return WEBHOOK_KINDS.map((kind) => {
      const r = rows.get(kind)
      // A row for another URL or login is history: what matters is whether the current target is registered.
      const current = r && configured && r.target === this.#target(kind) ? r : undefined
      return {
        kind,
        status: !configured ? 'not_configured' : (current?.status ?? 'registering'),
        registeredAt: current?.registered_at ?? null,
        lastError: current?.last_error ?? null,
        attempts: current?.attempts ?? 0,
        testAt: current?.test_at ?? null,
        confirmedAt: current?.confirmed_at ?? null,
      }
    })
  }

  /** Wait for a registration in progress (tests, shutdown). */
  async settled (): Promise<void> {
    await this.#running
  }

  close (): void {
    this.#closed = true
    clearTimeout(this.#timer)
  }
}
