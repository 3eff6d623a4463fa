/** The simulation step: which consults can be simulated, the installment ladder (prazo or 24 → 12 → 6), the result's shape. */
import { UpstreamError } from '../upstream/errors.js'
import type { Consult, Simulation, SimulationConfig, V8Client } from '../upstream/v8.js'

export const DEFAULT_LADDER: readonly number[] = [24, 12, 6]

/** `prazo` first, then the default counts below it (a too-long prazo still yields the best offer that exists). */
export function installmentPlan (prazo?: number): number[] {
  if (prazo === undefined) return [...DEFAULT_LADDER]
  return [prazo, ...DEFAULT_LADDER.filter((n) => n < prazo)]
}

export function marginOf (c: Pick<Consult, 'availableMarginValue'>): number | null {
  if (c.availableMarginValue === null || c.availableMarginValue === undefined || c.availableMarginValue === '') return null
  const n = Number(String(c.availableMarginValue).replace(',', '.'))
  return Number.isFinite(n) ? n : null
}

/** SUCCESS, or WAITING_CREDIT_ANALYSIS with a margin > 0 (UPSTREAM.md §1). */
export function isSimulable (c: Pick<Consult, 'status' | 'availableMarginValue'>): boolean {
  if (c.status === 'SUCCESS') return true
  return c.status === 'WAITING_CREDIT_ANALYSIS' && (marginOf(c) ?? 0) > 0
}

export const FINAL_STATUSES = new Set(['SUCCESS', 'REJECTED', 'FAILED'])

/** The simulacao_resultado object: V8's own fields kept, plus the Portuguese summary callers and the message use. */
export type SimulacaoResultado = Record<string, unknown> & {
  id_simulation: string
  consult_id: string
  config_id: string
  numero_parcelas: number
  valor_parcela: number
  valor_liberado: number | null
  valor_emissao: number | null
  taxa_juros_mensal: number | null
  cet_anual: number | null
  primeiro_vencimento: string | null
  simulado_em: string
}

export function summarize (sim: Simulation, consultId: string, config: SimulationConfig, now: number): SimulacaoResultado {
  const option = sim.disbursement_option
  return {
    ...sim,
    consult_id: consultId,
    config_id: config.id,
    config_slug: config.slug ?? null,
    numero_parcelas: sim.number_of_installments,
    valor_parcela: sim.installment_value,
    valor_liberado: option?.final_disbursement_amount ?? sim.disbursed_issue_amount ?? sim.disbursement_amount ?? null,
    valor_emissao: sim.issue_amount ?? sim.operation_amount ?? null,
    taxa_juros_mensal: sim.monthly_interest_rate ?? null,
    cet_anual: option?.cet ?? null,
    primeiro_vencimento: sim.first_installment_date ?? option?.first_due_date ?? null,
    simulado_em: new Date(now).toISOString(),
  }
}

export interface LadderAttempt {
  parcelas: number
  motivo: string
}

export type LadderResult =
  | { ok: true; simulacao: SimulacaoResultado; tentativas: LadderAttempt[] }
  | { ok: false; code: 'simulacao_recusada' | 'prazo_indisponivel'; motivo: string; tentativas: LadderAttempt[] }

/** V8 refusals that depend on the installment count: the next (smaller) count may work. */
const TRY_NEXT = new Set(['simulation_installments_above_maximum', 'simulation_installment_value_above_margin', 'validation_error', 'simulation_config_not_found'])

/**
 * Simulate at each count of `counts` in order and stop at the first that works. Each count uses the first config that
 * offers it; counts outside the consult's simulationLimit are skipped without a call. With `valor` the request is the
 * amount to disburse, otherwise the installment equals the margin. Non-business failures (timeouts, 5xx) are thrown.
 */
export async function simulateFirst (
  v8: Pick<V8Client, 'simulationConfigs' | 'simulate'>,
  consult: Pick<Consult, 'id' | 'availableMarginValue' | 'simulationLimit'>,
  opts: {
    counts: number[]
    valor?: number | undefined
    now: () => number
    signal?: AbortSignal | undefined
    /** Simulations we already hold for the CPF: one identical to the request answers V8's simulation_already_exists. */
    known?: () => Array<Record<string, unknown> | null | undefined>
  }
): Promise<LadderResult> {
  const configs = await v8.simulationConfigs(opts.signal)
  const margin = marginOf(consult)
  const limit = consult.simulationLimit ?? undefined
  const tentativas: LadderAttempt[] = []
  for (const n of opts.counts) {
    if ((limit?.installmentsMax !== undefined && n > limit.installmentsMax) || (limit?.installmentsMin !== undefined && n < limit.installmentsMin)) {
      tentativas.push({ parcelas: n, motivo: `fora do limite do termo (${limit.installmentsMin ?? '?'} a ${limit.installmentsMax ?? '?'} parcelas)` })
      continue
    }
    const config = configs.find((c) => c.number_of_installments.includes(n))
    if (!config) {
      tentativas.push({ parcelas: n, motivo: 'nenhuma tabela oferece este prazo' })
      continue
    }
    const amount = opts.valor !== undefined ? { disbursed_amount: opts.valor } : margin !== null && margin > 0 ? { installment_face_value: margin } : null
    if (amount === null) return { ok: false, code: 'simulacao_recusada', motivo: 'sem margem disponível para simular', tentativas }
    try {
      const sim = await v8.simulate({ consult_id: consult.id, config_id: config.id, number_of_installments: n, ...amount }, opts.signal)
      return { ok: true, simulacao: summarize(sim, consult.id, config, opts.now()), tentativas }
    } catch (err) {
      if (!(err instanceof UpstreamError) || err.statusCode !== 422) throw err
      const held = err.code === 'simulation_already_exists' ? (opts.known?.() ?? []).find((s) => sameRequest(s, consult.id, n, opts.valor, margin)) : undefined
      if (held) return { ok: true, simulacao: held as SimulacaoResultado, tentativas }
      const motivo = typeof err.details?.['motivo'] === 'string' ? err.details['motivo'] : err.message
      tentativas.push({ parcelas: n, motivo })
      if (!TRY_NEXT.has(err.code)) return { ok: false, code: 'simulacao_recusada', motivo, tentativas }
      // A fixed amount that is above the margin at n installments is further above it with fewer.
      if (opts.valor !== undefined && err.code === 'simulation_installment_value_above_margin') break
    }
  }
  const offered = [...new Set(configs.flatMap((c) => c.number_of_installments))].sort((a, b) => a - b)
  if (tentativas.every((t) => t.motivo === 'nenhuma tabela oferece este prazo')) {
    return { ok: false, code: 'prazo_indisponivel', motivo: `prazo indisponível; prazos oferecidos: ${offered.join(', ')}`, tentativas }
  }
  const last = tentativas[tentativas.length - 1]
  return { ok: false, code: 'simulacao_recusada', motivo: last ? `${last.motivo} (${last.parcelas}x)` : 'nenhum prazo pôde ser simulado', tentativas }
}

/** A held simulation answering the same request: consult, count, and amount (valor liberado, or installment = margin). */
function sameRequest (s: Record<string, unknown> | null | undefined, consultId: string, n: number, valor: number | undefined, margin: number | null): boolean {
  if (!s || s['consult_id'] !== consultId || s['numero_parcelas'] !== n) return false
  if (valor !== undefined) return Math.abs(Number(s['valor_liberado']) - valor) < 0.05
  return margin !== null && Math.abs(Number(s['valor_parcela']) - margin) < 0.005
}
