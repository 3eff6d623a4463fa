/** Created operations in the sandbox: the body POST /operation accepts, the status timeline, the list row and the detail. */
import { z } from 'zod'
import { hash32 } from './random.js'
import type { OperationRecord } from './state.js'

const text = z.string().trim().min(1)
const digits = (n: number) => z.string().regex(new RegExp(`^\\d{${n}}$`), `must be ${n} digits`)
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')

/** The body the six agreeing callers send (snake_case borrower); `provider` and `work_data` optional, as some omit them. */
export const createBody = z.object({
  simulation_id: text,
  provider: z.enum(['QI', 'CELCOIN']).optional(),
  borrower: z.object({
    name: text,
    email: z.string().email('must be an email'),
    phone: z.object({ country_code: z.literal('55'), area_code: digits(2), number: z.string().regex(/^9\d{8}$/, 'must be a 9-digit mobile') }),
    political_exposition: z.boolean(),
    address: z.object({ street: text, number: text, complement: z.string().nullish(), neighborhood: text, city: text, state: z.string().regex(/^[A-Z]{2}$/, 'must be a UF'), postal_code: digits(8) }),
    birth_date: date,
    mother_name: text,
    nationality: text,
    document_issuer: text,
    gender: z.enum(['male', 'female']),
    person_type: z.literal('natural'),
    marital_status: z.enum(['single', 'married', 'divorced', 'widowed']),
    individual_document_number: digits(11),
    document_identification_date: date,
    document_identification_type: z.enum(['rg', 'cnh']),
    document_identification_number: text,
    bank: z.union([
      z.object({ transfer_method: z.literal('pix'), pix_key: text, pix_key_type: z.enum(['cpf', 'email', 'phone', 'random']) }),
      z.object({ transfer_method: z.literal('ted'), bank_id: text, bank_code: digits(3), branch_number: z.string().regex(/^\d{1,5}$/), account_number: z.string().regex(/^\d{1,13}$/), account_digit: z.string().regex(/^[0-9X]$/) }),
    ]),
    work_data: z.object({ employer_name: text, employer_document_number: text, registration_number: text }).optional(),
  }),
})

export const BANKS = [
  { id: '0d6b1f2e-9a4c-4e37-8b21-5c3f7a9e2d10', code: '341', name: 'ITAU UNIBANCO S.A.' },
  { id: 'a3c5e7f9-1b2d-4f60-8a9c-0e1f2a3b4c5d', code: '001', name: 'BANCO DO BRASIL S.A.' },
  { id: '6f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f', code: '104', name: 'CAIXA ECONOMICA FEDERAL' },
  { id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', code: '237', name: 'BANCO BRADESCO S.A.' },
  { id: '9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b', code: '260', name: 'NU PAGAMENTOS S.A.' },
]

/** Where cancel is accepted (before payment starts). */
export const CANCELABLE = new Set(['generating_ccb', 'formalization', 'analysis', 'manual_analysis', 'awaiting_call', 'pending'])

export function fakeUuid (...parts: Array<string | number>): string {
  const hex = [0, 1, 2, 3].map((k) => hash32(...parts, k).toString(16).padStart(8, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** The status now: the last timeline step already due. */
export function operationStatus (op: OperationRecord, now: number): string {
  let status = op.timeline[0]?.status ?? 'generating_ccb'
  for (const step of op.timeline) if (step.at <= now) status = step.status
  return status
}

/** Replace what was still to come with new steps (an action or a control decides the future). */
export function reschedule (op: OperationRecord, now: number, steps: Array<{ after: number; status: string; description: string }>): void {
  op.timeline = [...op.timeline.filter((s) => s.at <= now), ...steps.map((s) => ({ at: now + s.after, status: s.status, description: s.description }))]
}

function history (op: OperationRecord, now: number): Array<Record<string, unknown>> {
  return op.timeline.filter((s) => s.at <= now).map((s, k) => ({ id: fakeUuid('op-history', op.id, k), action: s.status, description: s.description, reason: null, created_at: new Date(s.at).toISOString() }))
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null)

/** A camelCase list row, as GET /operation gives it. */
export function operationRow (op: OperationRecord, now: number): Record<string, unknown> {
  return {
    operationId: op.id,
    contractNumber: op.contractNumber,
    name: op.name,
    documentNumber: op.cpf,
    issueAmount: null,
    disbursedIssueAmount: num(op.simulation['disbursed_issue_amount'])?.toFixed(2) ?? null,
    installmentFaceValue: null,
    numberOfInstallments: null,
    status: operationStatus(op, now),
    partnerId: fakeUuid('partner-op', op.user),
    partnerInternalId: null,
    createdAt: new Date(op.createdAt).toISOString(),
    history: history(op, now),
  }
}

/** The snake_case detail; contract_url is the signing link until signed, then the contract PDF. */
export function operationDetail (op: OperationRecord, now: number): Record<string, unknown> {
  const status = operationStatus(op, now)
  const b = op.borrower as { name?: string; email?: string; birth_date?: string; phone?: { number?: string; area_code?: string } }
  const s = op.simulation
  const last = op.timeline.filter((x) => x.at <= now).at(-1)
  return {
    id: op.id,
    status,
    provider: op.provider,
    document_number: op.cpf,
    partner_id: fakeUuid('partner-op', op.user),
    partner_internal_id: null,
    contract_number: op.contractNumber,
    contract_url: ['generating_ccb', 'formalization'].includes(status) ? op.formalizationUrl : `${op.formalizationUrl}/contrato.pdf`,
    created_at: new Date(op.createdAt).toISOString(),
    updated_at: new Date(last?.at ?? op.createdAt).toISOString(),
    borrower: {
      name: b.name,
      email: b.email,
      document_number: op.cpf,
      birth_date: b.birth_date,
      borrower_phone: { number: b.phone?.number, area_code: b.phone?.area_code, country_code: '55' },
    },
    operation_data: {
      operation_amount: num(s['operation_amount'])?.toFixed(2) ?? null,
      issue_amount: num(s['issue_amount'])?.toFixed(2) ?? null,
      disbursed_issue_amount: num(s['disbursed_issue_amount'])?.toFixed(2) ?? null,
      installment_face_value: num(s['installment_value'])?.toFixed(2) ?? null,
      number_of_installments: num(s['number_of_installments']),
      monthly_interest_rate: num(s['monthly_interest_rate'])?.toFixed(2) ?? null,
      first_due_date: s['first_installment_date'] ?? null,
    },
    operation_history: history(op, now),
  }
}
