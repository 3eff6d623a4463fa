/**
 * The simulation step: the installment ladder (prazo or 24 → 12 → 6), the tenant's table preference with fall-through
 * when V8 refuses a table, and the result's shape (V8's fields kept, a Portuguese summary added, the table named).
 */
import { UpstreamError } from '../../upstream/errors.js'
import type { Consult, Simulation, SimulationConfig, V8Client } from '../../upstream/v8.js'
import { installmentFor } from './margin.js'
import type { Amount } from './types.js'

export const DEFAULT_LADDER: readonly number[] = [24, 12, 6]

/** `prazo` first, then the default counts below it (a too-long prazo still yields the best offer that exists). */
export function installmentPlan (prazo?: number): number[] {
  if (prazo === undefined) return [...DEFAULT_LADDER]
  return [prazo, ...DEFAULT_LADDER.filter((n) => n < prazo)]
}

/**
 * The ladder within a maximum: when counts of `counts` exceed `max` (the consult's simulationLimit.installmentsMax, or
 * the maximum V8 names when it refuses a count), the largest count a table offers within [min, max] is tried right
 * after them, before the smaller default counts. Callers do the same: MC snaps installmentsMax down into the table's
 * list, LC clamps to the limit, LV retries with the maximum parsed from the refusal (research/v8-core.md §7).
 */
export function fitLadder (counts: readonly number[], max: number | null | undefined, min: number | null | undefined, offered: readonly number[]): number[] {
  const cap = capWithin(max, min, offered)
  if (cap === undefined || counts.includes(cap) || !counts.some((n) => n > cap)) return [...counts]
  const at = counts.findIndex((n) => n < cap)
  return at === -1 ? [...counts, cap] : [...counts.slice(0, at), cap, ...counts.slice(at)]
}

/** The largest offered count within [min, max], if any. */
function capWithin (max: number | null | undefined, min: number | null | undefined, offered: readonly number[]): number | undefined {
  if (max == null) return undefined
  const within = offered.filter((n) => n <= max && n >= (min ?? 0))
  return within.length > 0 ? Math.max(...within) : undefined
}

/** The maximum a simulation_installments_above_maximum refusal names ("… menor ou igual a 18", "maior que 18", "maximum 18"). */
export function maximumIn (text: string): number | undefined {
  const m = /(?:igual a|maior que|m[aá]xim[oa]|maximum|at most)\D{0,12}(\d{1,3})/i.exec(text) ?? /(\d{1,3})/.exec(text)
  const n = m ? Number(m[1]) : NaN
  return Number.isInteger(n) && n > 0 ? n : undefined
}

/** A table with insurance: `is_insured` when V8 says, else a "seguro" slug or name that is not "sem seguro". */
export function isInsured (c: Pick<SimulationConfig, 'is_insured' | 'slug' | 'name'>): boolean {
  if (c.is_insured !== null) return c.is_insured
  const label = `${c.slug ?? ''} ${c.name ?? ''}`.toLowerCase()
  return /seguro/.test(label) && !/sem[\s_-]*seguro/.test(label)
}

/**
 * The tables in the order to try them: the tenant's preference (V8_SIMULATION_TABLE: sem_seguro, com_seguro or a
 * slug) first, V8's own order kept inside each group. V8 lists insured tables first, which most partners cannot use.
 */
export function orderTables (configs: readonly SimulationConfig[], preference: string): SimulationConfig[] {
  const plain = configs.filter((c) => !isInsured(c))
  const insured = configs.filter((c) => isInsured(c))
  if (preference === 'com_seguro') return [...insured, ...plain]
  const byInsurance = [...plain, ...insured]
  if (preference === 'sem_seguro') return byInsurance
  const wanted = preference.toLowerCase()
  const exact = byInsurance.filter((c) => c.slug?.toLowerCase() === wanted)
  const near = byInsurance.filter((c) => !exact.includes(c) && c.slug?.toLowerCase().includes(wanted))
  return [...exact, ...near, ...byInsurance.filter((c) => !exact.includes(c) && !near.includes(c))]
}

/** The simulacao_resultado object: V8's own fields kept, plus the Portuguese summary callers and the message use. */
export type SimulacaoResultado = Record<string, unknown> & {
  id_simulation: string
  consult_id: string
  config_id: string
  /** The table used: its slug (or id), and whether it carries insurance. */
  tabela: string
  tabela_com_seguro: boolean
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
    tabela: config.slug ?? config.id,
    tabela_com_seguro: isInsured(config),
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
  tabela?: string
  motivo: string
}

export type LadderResult =
  | { ok: true; simulacao: SimulacaoResultado; tentativas: LadderAttempt[] }
  | { ok: false; code: 'simulacao_recusada' | 'prazo_indisponivel'; motivo: string; tentativas: LadderAttempt[] }

/** Refusals of the count: a smaller count may work. */
const NEXT_COUNT = new Set(['simulation_installments_above_maximum', 'simulation_installment_value_above_margin', 'validation_error'])
/** Refusals of the table, whatever the count: the next table may work (callers move on after these). */
const NEXT_TABLE = new Set(['provider_does_not_have_insurance_active', 'simulation_not_eligible', 'simulation_config_not_found'])
const NO_TABLE = 'nenhuma tabela oferece este prazo'

function tableRefusal (err: UpstreamError): boolean {
  return NEXT_TABLE.has(err.code) || (err.code === 'upstream_rejected' && /seguro|tabela|config/i.test(err.message))
}

export interface LadderOptions {
  counts: number[]
  /** The caller's amount; without it the installment is the margin (or V8's lower recommendation). */
  amount?: Amount | undefined
  /** V8_SIMULATION_TABLE. */
  tables: string
  now: () => number
  signal?: AbortSignal | undefined
  /** Simulations we already hold for the CPF: one identical to the request answers V8's simulation_already_exists. */
  known?: () => Array<Record<string, unknown> | null | undefined>
}

/**
 * Simulate at each count of `counts` in order and stop at the first that works. Each count is tried on the tables
 * offering it, in the tenant's order; a table V8 refuses as such is not tried again. Counts outside the consult's
 * simulationLimit are skipped without a call. Non-business failures (timeouts, 5xx) are thrown.
 */
export async function simulateFirst (
  v8: Pick<V8Client, 'simulationConfigs' | 'simulate'>,
  consult: Pick<Consult, 'id' | 'availableMarginValue' | 'marginBaseValue' | 'recommendedSimulationInstallmentValue' | 'simulationLimit'>,
  opts: LadderOptions
): Promise<LadderResult> {
  const configs = orderTables(await v8.simulationConfigs(opts.signal), opts.tables)
  const installment = installmentFor(consult)
  const request = opts.amount
    ? opts.amount.kind === 'installment' ? { installment_face_value: opts.amount.value } : { disbursed_amount: opts.amount.value }
    : installment !== null && installment > 0 ? { installment_face_value: installment } : null
  if (request === null) return { ok: false, code: 'simulacao_recusada', motivo: 'sem margem disponível para simular', tentativas: [] }
  const limit = consult.simulationLimit ?? {}
  const refused = new Set<string>()
  const tentativas: LadderAttempt[] = []
  const offered = [...new Set(configs.flatMap((c) => c.number_of_installments))]
  const counts = fitLadder(opts.counts, limit.installmentsMax, limit.installmentsMin, offered)
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!
    if ((limit.installmentsMax != null && n > limit.installmentsMax) || (limit.installmentsMin != null && n < limit.installmentsMin)) {
      tentativas.push({ parcelas: n, motivo: `fora do limite do termo (${limit.installmentsMin ?? '?'} a ${limit.installmentsMax ?? '?'} parcelas)` })
      continue
    }
    const offering = configs.filter((c) => c.number_of_installments.includes(n))
    if (offering.length === 0) tentativas.push({ parcelas: n, motivo: NO_TABLE })
    // Tables refused at an earlier count are not asked again (their refusal is already among the tentativas).
    for (const table of offering.filter((c) => !refused.has(c.id))) {
      try {
        const sim = await v8.simulate({ consult_id: consult.id, config_id: table.id, number_of_installments: n, ...request }, opts.signal)
        return { ok: true, simulacao: summarize(sim, consult.id, table, opts.now()), tentativas }
      } catch (err) {
        if (!(err instanceof UpstreamError) || err.statusCode !== 422) throw err
        const held = err.code === 'simulation_already_exists' ? (opts.known?.() ?? []).find((s) => sameRequest(s, consult.id, n, request)) : undefined
        if (held) return { ok: true, simulacao: held as SimulacaoResultado, tentativas }
        const motivo = typeof err.details?.['motivo'] === 'string' ? err.details['motivo'] : err.message
        tentativas.push({ parcelas: n, tabela: table.slug ?? table.id, motivo })
        // Someone else's identical quote (the older system simulated margin × 24 on the same consult, another port
        // shares the V8 login): V8 does not give it back, so this table/count is taken; the next one is asked, as
        // the older system did.
        if (err.code === 'simulation_already_exists') continue
        if (tableRefusal(err)) {
          refused.add(table.id)
          continue
        }
        if (!NEXT_COUNT.has(err.code)) return { ok: false, code: 'simulacao_recusada', motivo, tentativas }
        // A fixed installment above the margin is above it at any count; a fixed amount, more so with fewer.
        if (opts.amount !== undefined && err.code === 'simulation_installment_value_above_margin') return failure(configs, tentativas)
        if (err.code === 'simulation_installments_above_maximum') {
          // V8 names its maximum: the largest offered count within it comes next (once; the rest keep their order).
          const cap = capWithin(maximumIn(`${motivo} ${err.message}`), limit.installmentsMin, offered)
          if (cap !== undefined && cap < n && !counts.includes(cap)) {
            const below = counts.findIndex((x, j) => j > i && x < cap)
            counts.splice(below === -1 ? counts.length : below, 0, cap)
          }
        }
        break
      }
    }
  }
  return failure(configs, tentativas)
}

function failure (configs: readonly SimulationConfig[], tentativas: LadderAttempt[]): LadderResult {
  const offered = [...new Set(configs.flatMap((c) => c.number_of_installments))].sort((a, b) => a - b)
  if (tentativas.length > 0 && tentativas.every((t) => t.motivo === NO_TABLE)) {
    return { ok: false, code: 'prazo_indisponivel', motivo: `prazo indisponível; prazos oferecidos: ${offered.join(', ')}`, tentativas }
  }
  const last = tentativas[tentativas.length - 1]
  return { ok: false, code: 'simulacao_recusada', motivo: last ? `${last.motivo} (${last.parcelas}x)` : 'nenhum prazo pôde ser simulado', tentativas }
}

/** A held simulation answering the same request: consult, count, and the same installment or released amount. */
function sameRequest (s: Record<string, unknown> | null | undefined, consultId: string, n: number, req: { installment_face_value?: number; disbursed_amount?: number }): boolean {
  if (!s || s['consult_id'] !== consultId || s['numero_parcelas'] !== n) return false
  if (req.disbursed_amount !== undefined) return Math.abs(Number(s['valor_liberado']) - req.disbursed_amount) < 0.05
  return req.installment_face_value !== undefined && Math.abs(Number(s['valor_parcela']) - req.installment_face_value) < 0.005
}
