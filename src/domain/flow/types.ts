/** The contract between the CLT flow and its callers (the HTTP route and the batch workers); the result's schema lives here once. */
import { z } from 'zod'
import type { Field } from '../borrower.js'

/**
 * The step where the flow stops for missing or invalid borrower data (`dados_faltantes`). A batch stores the CPFs it
 * refuses at creation at this same step, so an item's `etapa` reads alike whichever of the two stopped it.
 */
export const VALIDATION_STEP = 'validacao'

/** What the caller asked V8 to simulate: an installment (`installment_face_value`) or a released amount (`disbursed_amount`). */
export interface Amount {
  kind: 'installment' | 'disbursed'
  value: number
}

export interface FlowInput {
  /** 11 digits, already validated. */
  cpf: string
  amount?: Amount
  /** Number of installments asked for (the ladder below it follows). */
  installments?: number
  /** Data the caller supplied where the CRM lacks it (`dados_cliente`; never invented by us). */
  supplied?: Partial<Record<Field, string>>
  /** Kentro pipelines to search first (a batch made from a pipeline); KENTRO_PIPELINE_IDS follow. */
  pipelines?: readonly number[]
}

/** Where each value sent to V8 came from, as the tenant API names it. */
export const origemSchema = z.enum(['requisicao', 'kentro', 'v8', 'padrao_tenant'])
export type Origem = z.infer<typeof origemSchema>

/** The `resultado` object of POST /clt/fluxo-completo (UPSTREAM.md §6); Portuguese names kept for the callers. */
export const flowResultSchema = z.object({
  sucesso: z.boolean(),
  pendente: z.boolean().optional(),
  oportunidade_id: z.string().nullable(),
  dados_validados: z
    .object({
      nome: z.string(),
      cpf: z.string(),
      telefone: z.string(),
      data_nascimento: z.string(),
      email: z.string(),
      sexo: z.enum(['M', 'F']).optional(),
      /** Source of each field above (results stored before this field existed lack it). */
      origem: z.record(z.string(), origemSchema).optional(),
    })
    .nullable(),
  termo_resultado: z
    .object({
      id: z.string(),
      status: z.string(),
      description: z.string().nullable(),
      /** The margin the simulation used (the list's availableMarginValue, else the detail's marginBaseValue). */
      availableMarginValue: z.string().nullable(),
      marginBaseValue: z.string().nullable().optional(),
      recommendedSimulationInstallmentValue: z.string().nullable().optional(),
      simulationLimit: z.record(z.string(), z.number().nullable().optional()).nullable().optional(),
    })
    .nullable(),
  simulacao_resultado: z.record(z.string(), z.unknown()).nullable(),
  status_termo: z.string().nullable(),
  motivo_falha: z.string().nullable(),
  /** The offer stands but the CRM refused to record it (not a passing trouble): its code and words; the next call writes again. */
  kentro_recusa: z.object({ codigo: z.string(), motivo: z.string() }).optional(),
})
export type FlowResult = z.infer<typeof flowResultSchema>

/**
 * success: a simulation was obtained;
 * failed: a definitive business outcome (rejected, no opportunity, missing data, no margin);
 * pending: the consult is still in progress upstream; call again after `retryAfterMs`.
 * Transient upstream trouble (timeouts, 5xx, 429) is thrown as an AppError with status 502/503/504/429.
 */
export type FlowOutcome<R = FlowResult> =
  | { kind: 'success'; etapa: string; resultado: R }
  | { kind: 'failed'; etapa: string; code: string; erro: string; resultado: R | null; details?: Record<string, unknown> }
  | { kind: 'pending'; etapa: string; resultado: R; retryAfterMs: number }

/** `waitMs` bounds how long to poll the upstream before answering `pending` (0 = do not wait). */
export interface RunOptions { waitMs?: number; signal?: AbortSignal }

/** A flow the HTTP routes and the batch workers run per CPF; `R` is its result's shape (V8's by default). */
export interface FlowRunner<R = FlowResult> {
  run(input: FlowInput, opts?: RunOptions): Promise<FlowOutcome<R>>
}
