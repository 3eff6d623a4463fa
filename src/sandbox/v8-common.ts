/** Shared bits of the simulated V8 BFF: its error body, its list query, a consult's time-driven status and its views. */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { z, type ZodError } from 'zod'
import type { Consult } from './state.js'

export const FINAL_STATUSES = new Set(['SUCCESS', 'REJECTED', 'FAILED'])
export const INSTALLMENTS_MIN = 6
/** Rate used for the simulationLimit value range (the first config's rate). */
export const DEFAULT_MONTHLY_RATE = 3.49

/** V8 errors: `{type, title, detail}` with the type clients branch on. */
export function v8Error (reply: FastifyReply, status: number, type: string, detail: string): FastifyReply {
  const title = status === 404 ? 'Not Found' : status === 401 ? 'Unauthorized' : 'Bad Request'
  return reply.code(status).send({ type, title, detail })
}

export function validationError (reply: FastifyReply, error: ZodError): FastifyReply {
  const detail = error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')
  return v8Error(reply, 400, 'validation_error', detail)
}

const dateText = z.string().refine((d) => !Number.isNaN(Date.parse(d)), 'invalid date')

/** The query of V8's list calls (GET /consult, GET /operation): a date window, a page, the provider, a CPF search. */
export const listQuery = z.object({
  startDate: dateText.optional(),
  endDate: dateText.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  page: z.coerce.number().int().min(1).default(1),
  provider: z.enum(['QI', 'CELCOIN']).optional(),
  search: z.string().optional(),
})
type ListQuery = z.output<typeof listQuery>

/**
 * A list call's query read with `schema` (listQuery or an extension of it), plus its date window in ms (open ends
 * unbounded) and the search's digits ('' matches every CPF). On a bad query the 400 is sent and the answer is null.
 */
export function readListQuery<Q extends ListQuery> (schema: z.ZodType<Q>, request: FastifyRequest, reply: FastifyReply): (Q & { from: number; to: number; cpfSearch: string }) | null {
  const parsed = schema.safeParse(request.query ?? {})
  if (!parsed.success) {
    validationError(reply, parsed.error)
    return null
  }
  const q = parsed.data
  return {
    ...q,
    from: q.startDate ? Date.parse(q.startDate) : -Infinity,
    to: q.endDate ? Date.parse(q.endDate) : Infinity,
    cpfSearch: q.search?.replace(/\D/g, '') ?? '',
  }
}

/** The rows on the query's page (pages count from 1). */
export function pageOf<T> (rows: T[], q: Pick<ListQuery, 'page' | 'limit'>): T[] {
  return rows.slice((q.page - 1) * q.limit, q.page * q.limit)
}

/**
 * WAITING_CONSENT until authorize, then CONSENT_APPROVED, WAITING_CONSULT, WAITING_CREDIT_ANALYSIS (a consult that
 * will succeed already shows its margin there, and can be simulated) and the outcome once `finalAt` passes.
 */
export function consultStatus (c: Consult, now: number): string {
  if (c.authorizedAt === null || c.finalAt === null) return 'WAITING_CONSENT'
  if (now >= c.finalAt) return c.outcome.status
  if (c.approvedUntil !== null && now < c.approvedUntil) return 'CONSENT_APPROVED'
  if (c.outcome.status === 'SUCCESS' && c.analysisFrom !== null && now >= c.analysisFrom) return 'WAITING_CREDIT_ANALYSIS'
  return 'WAITING_CONSULT'
}

/** Present value of `installment` paid `n` times at monthly rate `rate` (fraction). */
export function presentValue (installment: number, n: number, rate: number): number {
  return rate === 0 ? installment * n : (installment * (1 - Math.pow(1 + rate, -n))) / rate
}

/** PMT: the installment repaying `principal` in `n` months at `rate` (fraction). */
export function pmt (principal: number, n: number, rate: number): number {
  return rate === 0 ? principal / n : (principal * rate) / (1 - Math.pow(1 + rate, -n))
}

export function round2 (x: number): number {
  return Math.round(x * 100) / 100
}

/** The margin V8 shows for a consult now: in analysis (of one that will succeed) and on success; null before. */
function marginNow (c: Consult, status: string): string | null {
  return status === 'SUCCESS' || status === 'WAITING_CREDIT_ANALYSIS' ? c.outcome.margin : null
}

/** A row of GET /consult: `availableMarginValue` (text) once SUCCESS, no limits (those are on the detail). */
export function consultRow (c: Consult, now: number): Record<string, unknown> {
  const status = consultStatus(c, now)
  return {
    id: c.id,
    status,
    description: FINAL_STATUSES.has(status) ? c.outcome.description : null,
    availableMarginValue: status === 'SUCCESS' ? c.outcome.margin : null,
    documentNumber: c.cpf,
    name: c.name,
    partnerId: c.partnerId,
    createdAt: new Date(c.createdAt).toISOString(),
  }
}

/**
 * GET /consult/{id}: a bare object with `marginBaseValue`, `simulationLimit` and
 * `recommendedSimulationInstallmentValue` (all text but the limits) and the employment data; no availableMarginValue.
 */
export function consultDetail (c: Consult, now: number): Record<string, unknown> {
  const status = consultStatus(c, now)
  const margin = marginNow(c, status)
  const max = c.outcome.installmentsMax
  const withLimits = margin !== null && Number(margin) > 0
  return {
    id: c.id,
    status,
    partnerId: c.partnerId,
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(Math.max(c.createdAt, Math.min(now, c.finalAt ?? c.createdAt))).toISOString(),
    documentNumber: c.cpf,
    name: c.name,
    partnerInternalId: null,
    birthDate: c.birthDate,
    gender: c.gender,
    phoneNumber: c.phone,
    description: FINAL_STATUSES.has(status) ? c.outcome.description : null,
    marginBaseValue: margin,
    consultEligible: status === 'SUCCESS' ? Number(c.outcome.margin) > 0 : null,
    admissionDate: '2019-03-11',
    terminationDate: null,
    employerDocumentNumber: '12345678',
    employerName: 'EMPRESA FICTICIA DO SANDBOX LTDA',
    workerCategoryCode: 101,
    registrationNumber: '0001.000004321',
    admissionDateMonthsDifference: 80,
    simulationLimit: withLimits
      ? {
          monthMin: INSTALLMENTS_MIN,
          monthMax: max,
          installmentsMin: INSTALLMENTS_MIN,
          installmentsMax: max,
          valueMin: 100,
          valueMax: Math.floor(presentValue(Number(margin), max, DEFAULT_MONTHLY_RATE / 100)),
        }
      : null,
    recommendedSimulationInstallmentValue: margin,
  }
}
