/**
 * zod shapes of V8's operation (proposal) answers, built to test/fixtures/upstream/v8/operation.*.json: the create
 * answer `{id, formalization_url}`, the snake_case detail, the banks list. Fields we use are checked, the rest passes.
 */
import { z } from 'zod'
import { numeric } from './v8-schemas.js'

const optText = z.string().nullish().transform((v) => (v === null || v === undefined || v === '' ? null : v))
const idText = z.union([z.string().min(1), z.number()]).transform(String)
const optNumeric = numeric.nullish().transform((v) => v ?? null)

/** The 12 operation statuses V8 documents (all lowercase; `canceled` with one l). */
export const OPERATION_STATUSES = [
  'generating_ccb',
  'formalization',
  'analysis',
  'manual_analysis',
  'awaiting_call',
  'processing',
  'paid',
  'pending',
  'awaiting_cancel',
  'canceled',
  'refunded',
  'rejected',
] as const
export type OperationStatus = (typeof OPERATION_STATUSES)[number]

/** V8 writes statuses in lower case; a caller upper-cases them, so any case is read. */
export const operationStatus = z.string().trim().min(1).transform((s) => s.toLowerCase())

/**
 * POST /operation: `{id, formalization_url}` is what every caller reads. Other callers' guesses (`operation_id`,
 * `proposal_id`, `idOperation`, a `data{}` wrapper, an optional `status`) are accepted; the client counts them.
 */
export const createdOperationSchema = z
  .object({
    id: idText.optional(),
    operation_id: idText.optional(),
    operationId: idText.optional(),
    proposal_id: idText.optional(),
    idOperation: idText.optional(),
    formalization_url: optText,
    status: operationStatus.nullish(),
  })
  .loose()
  .refine((o) => [o.id, o.operation_id, o.operationId, o.proposal_id, o.idOperation].some((v) => v !== undefined), { message: 'id missing', path: ['id'] })
  .transform((o) => ({
    id: (o.id ?? o.operation_id ?? o.operationId ?? o.proposal_id ?? o.idOperation)!,
    formalizationUrl: o.formalization_url,
    status: o.status ?? null,
    variant: o.id === undefined,
  }))
export type CreatedOperation = z.output<typeof createdOperationSchema>

const historyEntry = z.object({ id: optText, action: optText, description: optText, reason: optText, created_at: optText }).partial().loose()

/**
 * GET /operation/{id}: snake_case, unlike the list. `contract_url` holds the formalization link per one caller; a
 * `formalization_url` key (another caller's guess) is read too. Amounts only live in `operation_data`.
 */
export const operationDetailSchema = z
  .object({
    id: idText,
    status: operationStatus,
    provider: optText,
    document_number: z.union([z.string(), z.number()]).nullish().transform((v) => (v === null || v === undefined ? null : String(v))),
    contract_number: z.union([z.string(), z.number()]).nullish().transform((v) => (v === null || v === undefined ? null : String(v))),
    contract_url: optText,
    formalization_url: optText,
    partner_id: optText,
    created_at: optText,
    updated_at: optText,
    operation_data: z
      .object({
        operation_amount: optNumeric,
        issue_amount: optNumeric,
        disbursed_issue_amount: optNumeric,
        installment_face_value: optNumeric,
        number_of_installments: optNumeric,
        monthly_interest_rate: optNumeric,
        first_due_date: optText,
      })
      .partial()
      .loose()
      .nullish()
      .transform((v) => v ?? null),
    operation_history: z.array(historyEntry).nullish().transform((v) => v ?? []),
    pendency_reason: optText,
    status_description: optText,
  })
  .loose()
export type OperationDetail = z.output<typeof operationDetailSchema>

/** GET /banks rows: `id` (the TED `bank_id`) and `code` (text, e.g. "341"). */
export const bankSchema = z.object({ id: idText, code: z.union([z.string(), z.number()]).transform((v) => String(v).padStart(3, '0')), name: optText }).loose()
export type Bank = z.output<typeof bankSchema>
