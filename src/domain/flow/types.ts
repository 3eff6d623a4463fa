/** The contract between the CLT flow and its callers (the HTTP route and the batch workers). */

/** Data the caller may supply where the CRM lacks it (never invented by us). */
export interface DadosCliente {
  nome?: string
  email?: string
  telefone?: string
  data_nascimento?: string // YYYY-MM-DD or DD/MM/YYYY
  sexo?: 'M' | 'F'
}

export interface FlowInput {
  /** 11 digits, already validated. */
  cpf: string
  valor?: number
  prazo?: number
  dados_cliente?: DadosCliente
}

/** The `resultado` object of POST /clt/fluxo-completo (UPSTREAM.md §6), Portuguese field names kept. */
export interface FlowResult {
  sucesso: boolean
  pendente?: boolean
  oportunidade_id: string | null
  dados_validados: { nome: string; cpf: string; telefone: string; data_nascimento: string; email: string } | null
  termo_resultado: { id: string; status: string; description: string | null; availableMarginValue: string | null } | null
  simulacao_resultado: Record<string, unknown> | null
  status_termo: string | null
  motivo_falha: string | null
}

/**
 * success: a simulation was obtained (or the consult is usable and saved);
 * failed: a definitive business outcome (rejected, no opportunity, missing data, no margin);
 * pending: the consult is still in progress upstream; call again after `retryAfterMs`.
 * Transient upstream trouble (timeouts, 5xx, 429) is thrown as an AppError with status 502/503/504/429.
 */
export type FlowOutcome =
  | { kind: 'success'; etapa: string; resultado: FlowResult }
  | { kind: 'failed'; etapa: string; code: string; erro: string; resultado: FlowResult | null; details?: Record<string, unknown> }
  | { kind: 'pending'; etapa: string; resultado: FlowResult; retryAfterMs: number }

export interface FlowRunner {
  /** `waitMs` bounds how long to poll a consult before answering `pending` (0 = do not wait). */
  run(input: FlowInput, opts?: { waitMs?: number; signal?: AbortSignal }): Promise<FlowOutcome>
}
