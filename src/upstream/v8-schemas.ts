/**
 * zod shapes of the V8 BFF answers, built to the fixtures in test/fixtures/upstream/v8 (each cites the public callers
 * it came from): the fields the flow uses are checked, every other field passes through untouched.
 */
import { z } from 'zod'

/** A number V8 may send as a number or as text ("350.00"; a comma decimal is tolerated). */
export const numeric = z.union([z.number(), z.string().trim().regex(/^-?\d+([.,]\d+)?$/)]).transform((v) => (typeof v === 'number' ? v : Number(v.replace(',', '.'))))
const optNumeric = numeric.nullish().transform((v) => v ?? null)
/** Money kept as the text V8 gives (the tenant API has always answered these as strings, e.g. availableMarginValue). */
const money = z.union([z.string(), z.number()]).transform(String)
const optMoney = money.nullish().transform((v) => (v === null || v === undefined || v === '' ? null : v))
const optText = z.string().nullish().transform((v) => v ?? null)
const id = z.union([z.string().min(1), z.number()]).transform(String)
/** A code V8 sends as text or as a number (phone, contract, document or partner number), kept as text; null when absent. */
const optCode = z.union([z.string(), z.number()]).nullish().transform((v) => (v === null || v === undefined ? null : String(v)))

/** Detail only (and the webhook): what the consult allows to simulate. */
export const simulationLimitSchema = z
  .object({
    monthMin: optNumeric,
    monthMax: optNumeric,
    installmentsMin: optNumeric,
    installmentsMax: optNumeric,
    valueMin: optNumeric,
    valueMax: optNumeric,
  })
  .partial()
export type SimulationLimit = z.output<typeof simulationLimitSchema>

/**
 * A consult as the list rows and the detail carry it. The margin lives in different fields: the detail's
 * `marginBaseValue` (with `recommendedSimulationInstallmentValue` and `simulationLimit`), the list's and the
 * webhook's `availableMarginValue`. Both kinds are optional here; which one to use is the domain's decision.
 */
export const consultSchema = z.looseObject({
  id,
  status: z.string().min(1),
  description: optText,
  availableMarginValue: optMoney,
  marginBaseValue: optMoney,
  recommendedSimulationInstallmentValue: optMoney,
  recommendedSimulationInstallmentNumber: optNumeric,
  simulationLimit: simulationLimitSchema.nullish().transform((v) => v ?? null),
  documentNumber: z.union([z.string(), z.number()]).nullish().transform((v) => (v === null || v === undefined ? undefined : String(v))),
  name: optText,
  createdAt: optText,
  /** Detail only: the birth date the consult was created with (as sent; a time part tolerated). */
  birthDate: optText,
})
export type Consult = z.output<typeof consultSchema>

/** POST consult: only `{id}` is attested (a `status` is used when present). */
export const createdConsultSchema = z.looseObject({ id, status: z.string().min(1).optional() })

/** The list's pagination; `hasPrev` (UPSTREAM.md) and `hasPrevious` (the FGTS sibling) both accepted. */
export const pagesSchema = z
  .object({ hasNext: z.boolean().nullish(), totalPages: optNumeric, current: optNumeric })
  .partial()
  .loose()
  .nullish()

/** GET client-data/basic/{cpf}: what V8 knows of the person; every field optional, birthDate may carry a time. */
export const clientDataSchema = z.looseObject({
  name: optText,
  birthDate: optText,
  email: optText,
  phoneRegionCode: optCode,
  phoneNumber: optCode,
  gender: optText,
})
export type ClientData = z.output<typeof clientDataSchema>

export const configSchema = z.looseObject({
  id,
  slug: optText,
  name: optText,
  /** true for tables with insurance; absent on older answers (then the slug says "seguro" or not). */
  is_insured: z.boolean().nullish().transform((v) => v ?? null),
  monthly_interest_rate: optNumeric,
  number_of_installments: z.array(numeric).min(1),
})
export type SimulationConfig = z.output<typeof configSchema>

const disbursementOption = z
  .object({
    iof_amount: optNumeric,
    cet: optNumeric,
    first_due_date: optText,
    final_disbursement_amount: optNumeric,
  })
  .partial()
  .loose()

export const simulationSchema = z
  .looseObject({
    /** `simulation_id` in V8's PDF; the real answer says `id_simulation`. */
    id_simulation: id.optional(),
    simulation_id: id.optional(),
    installment_value: numeric,
    number_of_installments: numeric,
    operation_amount: optNumeric,
    issue_amount: optNumeric,
    disbursement_amount: optNumeric,
    disbursed_issue_amount: optNumeric,
    monthly_interest_rate: optNumeric,
    iof_amount: optNumeric,
    first_installment_date: optText,
    is_insured: z.boolean().nullish(),
    insurance_amount: optNumeric,
    /** Null on some answers; one caller sees a list of scenarios (`disbursement_options`) instead. */
    disbursement_option: disbursementOption.nullish().transform((v) => v ?? null),
    disbursement_options: z.array(disbursementOption).nullish(),
    provider: optText,
  })
  .refine((s) => s.id_simulation !== undefined || s.simulation_id !== undefined, { message: 'id_simulation missing', path: ['id_simulation'] })
  .transform(({ simulation_id: alt, disbursement_options: options, ...s }) => ({
    ...s,
    id_simulation: (s.id_simulation ?? alt)!,
    disbursement_option: s.disbursement_option ?? options?.[0] ?? null,
  }))
export type Simulation = z.output<typeof simulationSchema>

const historyEntry = z.object({ action: optText, description: optText, reason: optText, created_at: optText }).partial().loose()

/**
 * GET /operation rows: `operationId` (not `id`), `name`, `documentNumber`, amounts as text, `history[{action,…}]`.
 * `id` and `borrower{name, documentNumber}` are one caller's guess, accepted as fallbacks.
 */
export const operationSchema = z
  .looseObject({
    operationId: id.optional(),
    id: id.optional(),
    contractNumber: optCode,
    name: optText,
    documentNumber: optCode,
    borrower: z.object({ name: optText, documentNumber: optText }).partial().nullish(),
    disbursedIssueAmount: optNumeric,
    issueAmount: optNumeric,
    status: z.string().min(1),
    provider: optText,
    partnerId: optCode,
    createdAt: optText,
    history: z.array(historyEntry).nullish().transform((v) => v ?? []),
  })
  .refine((o) => o.operationId !== undefined || o.id !== undefined, { message: 'operationId missing', path: ['operationId'] })
  .transform(({ id: alt, borrower, ...o }) => ({
    ...o,
    operationId: (o.operationId ?? alt)!,
    name: o.name ?? borrower?.name ?? null,
    documentNumber: o.documentNumber ?? borrower?.documentNumber ?? null,
  }))
export type Operation = z.output<typeof operationSchema>
