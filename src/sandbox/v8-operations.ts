/**
 * V8 BFF operations: a deterministic set of 30 contracts over the last 60 days, as real rows (operationId, name,
 * documentNumber, amounts as text, history[{action,…}]); a bare array by default, `data` or `items` on request.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { bearerUser } from './auth.js'
import { personAt } from './population.js'
import { hash32 } from './random.js'
import type { SandboxState } from './state.js'
import { DEFAULT_MONTHLY_RATE, presentValue, round2, validationError } from './v8-common.js'

export const OPERATION_COUNT = 30
export const OPERATION_STATUSES = ['generating_ccb', 'formalization', 'analysis', 'processing', 'paid', 'canceled', 'rejected', 'pending'] as const
const DAY = 86_400_000

const listQuery = z.object({
  startDate: z.string().refine((d) => !Number.isNaN(Date.parse(d)), 'invalid date').optional(),
  endDate: z.string().refine((d) => !Number.isNaN(Date.parse(d)), 'invalid date').optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  page: z.coerce.number().int().min(1).default(1),
  provider: z.enum(['QI', 'CELCOIN']).optional(),
})

function fakeUuid (...parts: Array<string | number>): string {
  const hex = [0, 1, 2, 3].map((k) => hash32(...parts, k).toString(16).padStart(8, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/**
 * The operations as of `now`: dates are anchored to the start of the current UTC day, so a day's listing is stable.
 * `provider` is the sandbox's own bookkeeping for the `provider` filter (real rows do not carry it): strip it.
 */
export function operationsAt (seed: number, now: number): Array<Record<string, unknown> & { provider: string }> {
  const today = Math.floor(now / DAY) * DAY
  return Array.from({ length: OPERATION_COUNT }, (_, i) => {
    const person = personAt(seed, 'ok', i)
    const createdAt = today - (i * 2 + 1) * DAY + (hash32('op-time', seed, i) % DAY)
    const status = OPERATION_STATUSES[i % OPERATION_STATUSES.length] ?? 'pending'
    const n = [12, 18, 24][i % 3] ?? 24
    const issue = round2(presentValue(Number(person.margin), n, DEFAULT_MONTHLY_RATE / 100))
    const disbursed = round2(issue * 0.97)
    const path = OPERATION_STATUSES.slice(0, Math.max(1, OPERATION_STATUSES.indexOf(status) + 1))
    return {
      operationId: fakeUuid('operation', seed, i),
      contractNumber: `MAG${String(hash32('contract', seed, i) % 10_000_000_000).padStart(10, '0')}`,
      name: person.nome,
      documentNumber: person.cpf,
      // The list leaves these null; only the detail fills them.
      issueAmount: null,
      disbursedIssueAmount: disbursed.toFixed(2),
      installmentFaceValue: null,
      numberOfInstallments: null,
      status,
      partnerId: fakeUuid('partner-op', seed),
      partnerInternalId: null,
      createdAt: new Date(createdAt).toISOString(),
      history: path.map((s, k) => ({
        id: fakeUuid('history', seed, i, k),
        action: s,
        description: s === 'generating_ccb' ? 'Operação criada' : `Status: ${s}`,
        reason: null,
        created_at: new Date(createdAt + k * 3_600_000).toISOString(),
      })),
      provider: i % 3 === 2 ? 'CELCOIN' : 'QI',
    }
  })
}

function withoutProvider (op: Record<string, unknown>): Record<string, unknown> {
  const row = { ...op }
  delete row['provider']
  return row
}

export function operationRoutes (app: FastifyInstance, state: SandboxState): void {
  /** GET /private-consignment/operation */
  app.get('/private-consignment/operation', async (request, reply) => {
    if (bearerUser(state, request, reply) === null) return reply
    const parsed = listQuery.safeParse(request.query ?? {})
    if (!parsed.success) return validationError(reply, parsed.error)
    const q = parsed.data
    const from = q.startDate ? Date.parse(q.startDate) : -Infinity
    const to = q.endDate ? Date.parse(q.endDate) : Infinity
    const all = operationsAt(state.config.seed, state.now()).filter((op) => {
      const at = Date.parse(String(op['createdAt']))
      return at >= from && at <= to && (!q.provider || op['provider'] === q.provider)
    })
    const page = all.slice((q.page - 1) * q.limit, q.page * q.limit).map(withoutProvider)
    const shape = state.config.operationsShape
    if (shape === 'array') return page
    if (shape === 'items') return { items: page, total: all.length, page: q.page, limit: q.limit }
    return { data: page, total: all.length, page: q.page, limit: q.limit }
  })
}
