/** zod shapes of the V8 BFF answers the flow relies on (UPSTREAM.md §1); both documented variants accepted. */
import { z } from 'zod'

const money = z.union([z.string(), z.number()]).transform((v) => String(v))

export const consultSchema = z.object({
  id: z.string().min(1),
  status: z.string().min(1),
  description: z.string().nullish().transform((v) => v ?? null),
  availableMarginValue: money.nullish().transform((v) => v ?? null),
  documentNumber: z.string().optional(),
  name: z.string().optional(),
  partnerId: z.union([z.string(), z.number()]).optional(),
  createdAt: z.string().optional(),
  simulationLimit: z
    .object({ installmentsMin: z.coerce.number(), installmentsMax: z.coerce.number(), valueMin: z.coerce.number(), valueMax: z.coerce.number() })
    .partial()
    .nullish(),
})
export type Consult = z.output<typeof consultSchema>

export const consultListSchema = z.object({ data: z.array(consultSchema) })

export const createdConsultSchema = z.object({ id: z.string().min(1), status: z.string().default('WAITING_CONSENT') })

const configSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  slug: z.string().optional(),
  monthly_interest_rate: z.union([z.string(), z.number()]).optional(),
  number_of_installments: z.array(z.union([z.string(), z.number()]).transform(Number)),
})
export type SimulationConfig = z.output<typeof configSchema>
export const configsSchema = z.union([z.object({ configs: z.array(configSchema) }).transform((o) => o.configs), z.array(configSchema)])

export const simulationSchema = z
  .object({
    id_simulation: z.union([z.string(), z.number()]).transform(String),
    installment_value: z.coerce.number(),
    number_of_installments: z.coerce.number(),
    operation_amount: z.coerce.number().optional(),
    issue_amount: z.coerce.number().optional(),
    disbursement_amount: z.coerce.number().optional(),
    disbursed_issue_amount: z.coerce.number().optional(),
    monthly_interest_rate: z.coerce.number().optional(),
    first_installment_date: z.string().optional(),
    disbursement_option: z
      .object({ iof_amount: z.coerce.number(), cet: z.coerce.number(), first_due_date: z.string(), final_disbursement_amount: z.coerce.number() })
      .partial()
      .optional(),
    provider: z.string().optional(),
  })
  .passthrough()
export type Simulation = z.output<typeof simulationSchema>

const operationSchema = z
  .object({
    id: z.union([z.string(), z.number()]).transform(String),
    contractNumber: z.union([z.string(), z.number()]).nullish(),
    status: z.string(),
    borrower: z.object({ name: z.string().optional(), documentNumber: z.string().optional() }).partial().nullish(),
    issueAmount: z.union([z.string(), z.number()]).nullish(),
    disbursedIssueAmount: z.union([z.string(), z.number()]).nullish(),
    partnerId: z.union([z.string(), z.number()]).nullish(),
    createdAt: z.string().nullish(),
  })
  .passthrough()
export type Operation = z.output<typeof operationSchema>
export const operationsSchema = z.union([
  z.object({ data: z.array(operationSchema) }).transform((o) => o.data),
  z.object({ items: z.array(operationSchema) }).transform((o) => o.items),
  z.array(operationSchema),
])
