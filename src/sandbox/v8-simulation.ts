/**
 * V8 BFF simulation: the tables (wrapped or bare, insured ones FIRST as V8 lists them) and POST /simulation with PMT
 * math and its refusals, including provider_does_not_have_insurance_active for insured tables when the partner has
 * no insurance. The answer's disbursement data comes in the three forms callers see, by the person's index.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { bearerUser } from './auth.js'
import { personByCpf } from './population.js'
import type { SandboxState } from './state.js'
import { consultStatus, DEFAULT_MONTHLY_RATE, pmt, presentValue, round2, v8Error, validationError } from './v8-common.js'

const INSTALLMENTS = ['6', '12', '18', '24', '36', '48', '60', '72', '84', '96']
/** monthly_interest_rate is a percentage per month, as a decimal string; insured tables first, as V8 lists them. */
export const SIMULATION_CONFIGS = [
  { id: '5d0c7f3e-2a41-4c7b-9e2f-8a1b6c3d4e03', slug: 'clt-acelera-seguro', is_insured: true, monthly_interest_rate: '3.29', number_of_installments: INSTALLMENTS },
  { id: '5d0c7f3e-2a41-4c7b-9e2f-8a1b6c3d4e01', slug: 'clt-acelera', is_insured: false, monthly_interest_rate: DEFAULT_MONTHLY_RATE.toFixed(2), number_of_installments: INSTALLMENTS },
  { id: '5d0c7f3e-2a41-4c7b-9e2f-8a1b6c3d4e02', slug: 'clt-premium', is_insured: false, monthly_interest_rate: '2.99', number_of_installments: INSTALLMENTS.slice(0, 6) },
] as const
export const INSURED_TABLE_ID = SIMULATION_CONFIGS[0].id

const simulationBody = z
  .object({
    consult_id: z.string().min(1),
    config_id: z.string().min(1),
    number_of_installments: z.coerce.number().int().positive(),
    provider: z.enum(['QI', 'CELCOIN']),
    installment_face_value: z.coerce.number().positive().optional(),
    disbursed_amount: z.coerce.number().positive().optional(),
  })
  .refine((b) => (b.installment_face_value === undefined) !== (b.disbursed_amount === undefined), {
    message: 'give exactly one of installment_face_value or disbursed_amount',
  })

/** IOF on a CLT loan: 0.38 % flat + 0.0082 % a day, at most 365 days. */
function iofRate (n: number): number {
  return 0.0038 + 0.000082 * Math.min(365, 30 * n)
}

/** Monthly CET: the rate at which `installment` × n repays what the borrower actually receives (bisection). */
function monthlyCet (received: number, installment: number, n: number): number {
  let lo = 0
  let hi = 1
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2
    if (presentValue(installment, n, mid) > received) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

function addDays (now: number, days: number): string {
  return new Date(now + days * 86_400_000).toISOString().slice(0, 10)
}

export function simulationRoutes (app: FastifyInstance, state: SandboxState): void {
  /** GET /private-consignment/simulation/configs */
  app.get('/private-consignment/simulation/configs', async (request, reply) => {
    if (bearerUser(state, request, reply) === null) return reply
    const configs = SIMULATION_CONFIGS.map((c) => ({ ...c, number_of_installments: [...c.number_of_installments] }))
    return state.config.configsShape === 'array' ? configs : { configs }
  })

  /** POST /private-consignment/simulation */
  app.post('/private-consignment/simulation', async (request, reply) => {
    const user = bearerUser(state, request, reply)
    if (user === null) return reply
    const parsed = simulationBody.safeParse(request.body ?? {})
    if (!parsed.success) return validationError(reply, parsed.error)
    const b = parsed.data
    const consult = state.consultsOf(user).get(b.consult_id)
    if (!consult) return v8Error(reply, 404, 'consult_not_found', `Consult ${b.consult_id} not found`)
    const config = SIMULATION_CONFIGS.find((c) => c.id === b.config_id)
    if (!config) return v8Error(reply, 400, 'simulation_config_not_found', `Config ${b.config_id} not found`)
    if (config.is_insured && !state.config.insuranceActive) {
      return v8Error(reply, 400, 'provider_does_not_have_insurance_active', 'O provedor informado não possui seguro ativo para esta parceria.')
    }
    const now = state.now()
    const status = consultStatus(consult, now)
    const margin = Number(consult.outcome.margin)
    if (!['SUCCESS', 'WAITING_CREDIT_ANALYSIS'].includes(status)) {
      return v8Error(reply, 400, 'simulation_not_eligible', `Consult status ${status} cannot be simulated`)
    }
    if (!(margin > 0)) return v8Error(reply, 400, 'simulation_not_eligible', 'Borrower has no available margin')
    const n = b.number_of_installments
    if (n > consult.outcome.installmentsMax) {
      return v8Error(reply, 400, 'simulation_installments_above_maximum', `Maximum number of installments is ${consult.outcome.installmentsMax}`)
    }
    if (!(config.number_of_installments as readonly string[]).includes(String(n))) {
      return v8Error(reply, 400, 'validation_error', `number_of_installments: must be one of ${config.number_of_installments.join(', ')}`)
    }
    const rate = Number(config.monthly_interest_rate) / 100
    const iof = iofRate(n)
    const principal = b.installment_face_value !== undefined ? presentValue(b.installment_face_value, n, rate) : b.disbursed_amount! / (1 - iof)
    const installment = round2(b.installment_face_value ?? pmt(principal, n, rate))
    if (installment > margin + 0.001) {
      return v8Error(reply, 400, 'simulation_installment_value_above_margin', `Installment ${installment.toFixed(2)} is above the available margin ${consult.outcome.margin}`)
    }
    const key = `${config.id}|${n}|${installment.toFixed(2)}`
    const previous = state.simulations.get(consult.id) ?? []
    const same = previous.find((s) => s.key === key)
    if (same && state.config.rejectDuplicateSimulations) {
      return v8Error(reply, 400, 'simulation_already_exists', `Simulation ${String(same.body['id_simulation'])} already exists for this consult`)
    }
    const issue = round2(principal)
    const iofAmount = round2(principal * iof)
    const disbursed = round2(issue - iofAmount)
    const cetMonthly = monthlyCet(disbursed, installment, n)
    const firstDue = addDays(now, 30)
    const option = {
      iof_amount: iofAmount,
      cet: round2((Math.pow(1 + cetMonthly, 12) - 1) * 100),
      first_due_date: firstDue,
      final_disbursement_amount: disbursed,
    }
    // index % 3 of the person: the option object, null (then only the top-level amounts), or a list of options.
    const variant = (personByCpf(state.config.seed, consult.cpf)?.index ?? 0) % 3
    const body = {
      id_simulation: randomUUID(),
      installment_value: installment,
      number_of_installments: n,
      operation_amount: issue,
      issue_amount: issue,
      disbursement_amount: disbursed,
      disbursed_issue_amount: disbursed,
      monthly_interest_rate: Number(config.monthly_interest_rate),
      iof_amount: iofAmount,
      first_installment_date: firstDue,
      is_insured: config.is_insured,
      insurance_amount: config.is_insured ? round2(issue * 0.03) : null,
      simulation_config_id: config.id,
      simulation_config_slug: config.slug,
      ...(variant === 2 ? { disbursement_options: [option] } : { disbursement_option: variant === 1 ? null : option }),
      provider: b.provider,
    }
    state.simulations.set(consult.id, [...previous, { key, body }])
    state.stats.simulations_created++
    return reply.code(201).send(body)
  })
}
