/**
 * V8 webhooks as V8 runs them: `POST /user/webhook/private-consignment/{consult|operation} {url}` (V8 POSTs
 * `webhook.test` to the URL before accepting it, then `webhook.registered`), then every consult and operation status
 * change of that login is POSTed there as `{type, consultId|operationId, status, …}` — no signature, no event id,
 * redelivered on anything but a 2xx. Faults for idempotency tests: drop, duplicate, delay, and replay an old event.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { z } from 'zod'
import { bearerUser } from './auth.js'
import { CONTROL_PREFIX } from './faults.js'
import type { SandboxState, SentEvent } from './state.js'
import { consultStatus, FINAL_STATUSES, INSTALLMENTS_MIN, presentValue, DEFAULT_MONTHLY_RATE, v8Error } from './v8-common.js'
import { operationStatus } from './v8-operations.js'

type Kind = 'consult' | 'operation'
const TICK_MS = 50
const ATTEMPTS = 4

const registerBody = z.object({ url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL') })
const faultsBody = z
  .object({
    drop_rate: z.number().min(0).max(1).optional(),
    drop_next: z.number().int().min(0).optional(),
    duplicate_rate: z.number().min(0).max(1).optional(),
    duplicate_next: z.number().int().min(0).optional(),
    delay_ms: z.number().int().min(0).max(60_000).optional(),
  })
  .strict()

/** POST a JSON body; the status, or null when the receiver could not be reached. */
async function post (url: string, payload: unknown): Promise<number | null> {
  try {
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload), headersTimeout: 5_000, bodyTimeout: 5_000 })
    await res.body.dump()
    return res.statusCode
  } catch {
    return null
  }
}

export class WebhookDispatcher {
  #timer: NodeJS.Timeout | undefined
  #queue: SentEvent[] = []
  #sending: Promise<void> | undefined
  #closed = false

  constructor (private readonly state: SandboxState) {}

  start (): void {
    this.#timer = setInterval(() => this.tick(), TICK_MS)
    this.#timer.unref()
  }

  close (): void {
    this.#closed = true
    clearInterval(this.#timer)
  }

  /** Queue an event for every consult or operation whose status changed since the last one sent. */
  tick (): void {
    const s = this.state
    const now = s.now()
    for (const [user, urls] of s.webhooks) {
      if (urls.consult) {
        for (const c of s.consultsOf(user).values()) {
          if (c.authorizedAt === null) continue
          const status = consultStatus(c, now)
          if (s.notified.get(c.id) === status) continue
          s.notified.set(c.id, status)
          const payload: Record<string, unknown> = { type: 'private.consignment.consult.updated', consultId: c.id, status }
          if (status === 'SUCCESS') {
            const max = c.outcome.installmentsMax
            Object.assign(payload, {
              availableMarginValue: c.outcome.margin,
              admissionDateMonthsDifference: 80,
              simulationLimit: { monthMin: INSTALLMENTS_MIN, monthMax: max, installmentsMin: INSTALLMENTS_MIN, installmentsMax: max, valueMin: 100, valueMax: Math.floor(presentValue(Number(c.outcome.margin), Math.max(1, max), DEFAULT_MONTHLY_RATE / 100)) },
            })
          } else if (FINAL_STATUSES.has(status)) {
            payload['description'] = c.outcome.description
          }
          this.enqueue(user, urls.consult, payload)
        }
      }
      if (urls.operation) {
        for (const op of s.operations.values()) {
          if (op.user !== user) continue
          const status = operationStatus(op, now)
          const before = s.notified.get(op.id)
          if (before === status) continue
          s.notified.set(op.id, status)
          const type = before === undefined ? 'private.consignment.operation.created' : 'private.consignment.operation.updated'
          this.enqueue(user, urls.operation, { type, operationId: op.id, status })
        }
      }
    }
  }

  enqueue (user: string, url: string, payload: Record<string, unknown>): SentEvent {
    const e: SentEvent = { seq: this.state.sentEvents.length + 1, user, url, payload, result: 'pending', attempts: 0, lastStatus: null, duplicated: false, at: this.state.now() }
    this.state.sentEvents.push(e)
    this.#queue.push(e)
    this.#sending ??= this.#drain().finally(() => {
      this.#sending = undefined
    })
    return e
  }

  /** Deliver one queued event after another (in order, as far as faults allow). */
  async #drain (): Promise<void> {
    while (this.#queue.length > 0 && !this.#closed) {
      const e = this.#queue.shift()!
      const f = this.state.webhookFaults
      const roll = (rate: number): boolean => rate > 0 && this.state.webhookRandom() < rate
      if (f.dropNext > 0 || roll(f.dropRate)) {
        if (f.dropNext > 0) f.dropNext--
        e.result = 'dropped'
        continue
      }
      const twice = f.duplicateNext > 0 || roll(f.duplicateRate)
      if (f.duplicateNext > 0 && twice) f.duplicateNext--
      if (f.delayMs > 0) await sleep(f.delayMs)
      await this.#deliver(e)
      if (twice && e.result === 'delivered') {
        e.duplicated = true
        await this.#deliver(e)
      }
    }
  }

  /** Up to ATTEMPTS tries with backoff, as V8 redelivers on anything but a 2xx. */
  async #deliver (e: SentEvent): Promise<void> {
    for (let attempt = 1; attempt <= ATTEMPTS && !this.#closed; attempt++) {
      e.attempts++
      const status = await post(e.url, e.payload)
      e.lastStatus = status
      this.state.stats.webhook_deliveries++
      if (status !== null && status >= 200 && status < 300) {
        e.result = 'delivered'
        return
      }
      if (attempt < ATTEMPTS) await sleep(100 * 2 ** attempt)
    }
    e.result = 'failed'
  }

  /** Wait until everything queued so far was sent or given up. */
  async idle (): Promise<void> {
    while (this.#sending) await this.#sending
  }
}

export function webhookRoutes (app: FastifyInstance, state: SandboxState, dispatcher: WebhookDispatcher): void {
  for (const kind of ['consult', 'operation'] as const) {
    /** POST /user/webhook/private-consignment/{kind} */
    app.post(`/user/webhook/private-consignment/${kind}`, async (request, reply) => {
      const user = bearerUser(state, request, reply)
      if (user === null) return reply
      const parsed = registerBody.safeParse(request.body ?? {})
      if (!parsed.success) return v8Error(reply, 400, 'validation_error', `url: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
      const { url } = parsed.data
      // V8 tries the URL before accepting it.
      const test = await post(url, { type: 'webhook.test' })
      if (test === null || test < 200 || test >= 300) return v8Error(reply, 400, 'webhook_test_failed', `The webhook test POST to the url answered ${test ?? 'nothing'}`)
      const mine = state.webhooks.get(user) ?? {}
      mine[kind as Kind] = url
      state.webhooks.set(user, mine)
      state.stats.webhooks_registered++
      setImmediate(() => dispatcher.enqueue(user, url, { type: 'webhook.registered' }))
      return reply.code(200).type('text/plain').send('')
    })
  }

  /** GET /__sandbox/webhooks — registrations, faults, and every event sent so far. */
  app.get(`${CONTROL_PREFIX}/webhooks`, async () => ({
    registrations: Object.fromEntries(state.webhooks),
    faults: state.webhookFaults,
    events: state.sentEvents.map((e) => ({ seq: e.seq, type: e.payload['type'], ref: e.payload['consultId'] ?? e.payload['operationId'] ?? null, status: e.payload['status'] ?? null, result: e.result, attempts: e.attempts, last_status: e.lastStatus, duplicated: e.duplicated })),
  }))

  /** POST /__sandbox/webhooks/faults — drop/duplicate (rate or the next N), delay; replaces the current ones. */
  app.post(`${CONTROL_PREFIX}/webhooks/faults`, async (request, reply) => {
    const parsed = faultsBody.safeParse(request.body ?? {})
    if (!parsed.success) return reply.code(400).send({ error: 'bad_request', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') })
    const b = parsed.data
    state.webhookFaults = { dropRate: b.drop_rate ?? 0, dropNext: b.drop_next ?? 0, duplicateRate: b.duplicate_rate ?? 0, duplicateNext: b.duplicate_next ?? 0, delayMs: b.delay_ms ?? 0 }
    return { success: true, faults: state.webhookFaults }
  })

  /** POST /__sandbox/webhooks/replay {seq} — send an event again now (after newer ones: out of order). */
  app.post(`${CONTROL_PREFIX}/webhooks/replay`, async (request, reply) => {
    const seq = Number((request.body as { seq?: unknown } | undefined)?.seq)
    const old = state.sentEvents.find((e) => e.seq === seq)
    if (!old) return reply.code(404).send({ error: 'not_found', message: `no event #${seq}` })
    const again = dispatcher.enqueue(old.user, old.url, old.payload)
    await dispatcher.idle()
    return { success: true, seq: again.seq, result: again.result }
  })

  /** POST /__sandbox/webhooks/flush — wait until every queued event was sent (tests). */
  app.post(`${CONTROL_PREFIX}/webhooks/flush`, async () => {
    dispatcher.tick()
    await dispatcher.idle()
    return { success: true, sent: state.sentEvents.length }
  })
}
