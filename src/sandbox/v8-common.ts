/** Shared bits of the simulated V8 BFF: its error body, a consult's time-driven status and its public view. */
import type { FastifyReply } from 'fastify'
import type { ZodError } from 'zod'
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

/** WAITING_CONSENT until authorize, then CONSENT_APPROVED, WAITING_CONSULT, and the outcome once `finalAt` passes. */
export function consultStatus (c: Consult, now: number): string {
  if (c.authorizedAt === null || c.finalAt === null) return 'WAITING_CONSENT'
  if (now >= c.finalAt) return c.outcome.status
  if (c.approvedUntil !== null && now < c.approvedUntil) return 'CONSENT_APPROVED'
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

export function consultView (c: Consult, now: number): Record<string, unknown> {
  const status = consultStatus(c, now)
  const final = FINAL_STATUSES.has(status)
  const margin = Number(c.outcome.margin)
  const view: Record<string, unknown> = {
    id: c.id,
    status,
    description: final ? c.outcome.description : null,
    availableMarginValue: final && status === 'SUCCESS' ? c.outcome.margin : null,
    documentNumber: c.cpf,
    name: c.name,
    partnerId: c.partnerId,
    provider: c.provider,
    createdAt: new Date(c.createdAt).toISOString(),
  }
  if (status === 'SUCCESS' && margin > 0) {
    const max = c.outcome.installmentsMax
    view['simulationLimit'] = {
      installmentsMin: INSTALLMENTS_MIN,
      installmentsMax: max,
      valueMin: 100,
      valueMax: Math.floor(presentValue(margin, max, DEFAULT_MONTHLY_RATE / 100)),
    }
  }
  return view
}
