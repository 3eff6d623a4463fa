/** Simulations outside the full flow (simular-personalizada, simular-cache) against the CPF's approved consult. */
import type { TenantConfig } from '../../config/schema.js'
import { AppError, notFound, unprocessable } from '../../errors.js'
import { UpstreamError } from '../../upstream/errors.js'
import type { Consult, V8Client } from '../../upstream/v8.js'
import type { SimulationCachePort } from './cache-port.js'
import { completeMargin, isSimulable, marginOf } from './margin.js'
import type { FlowRequest, FlowResultsRepository } from './results.js'
import { installmentPlan, simulateFirst, type SimulacaoResultado } from './simulation.js'
import type { Amount } from './types.js'

export interface SimulationsDeps {
  v8: Pick<V8Client, 'getConsult' | 'findLatestConsultByCpf' | 'simulationConfigs' | 'simulate'>
  config: () => TenantConfig
  results: FlowResultsRepository
  cache: SimulationCachePort
  now?: () => number
}

export class CltSimulations {
  readonly #d: SimulationsDeps
  readonly #now: () => number

  constructor (deps: SimulationsDeps) {
    this.#d = deps
    this.#now = deps.now ?? Date.now
  }

  /**
   * The CPF's consult that can be simulated: the one the flow used, the cached one, else the newest at V8.
   * 404 when the CPF has none; 422 when it exists but is not approved or has no margin.
   */
  async approvedConsult (cpf: string, signal?: AbortSignal): Promise<Consult> {
    const ids = [this.#d.results.get(cpf)?.consultId, this.#d.cache.get(cpf)?.consultId].filter((id): id is string => !!id)
    let seen: Consult | undefined
    for (const id of new Set(ids)) {
      let c: Consult
      try {
        c = await this.#d.v8.getConsult(id, signal)
      } catch (err) {
        if (err instanceof UpstreamError && err.statusCode === 404) continue
        throw err
      }
      if (isSimulable(c)) {
        const full = await completeMargin(this.#d.v8, c, cpf, signal)
        if ((marginOf(full) ?? 0) > 0) return full
      }
      seen ??= c
    }
    const latest = await this.#d.v8.findLatestConsultByCpf(cpf, { signal })
    if (latest && isSimulable(latest)) {
      const full = await completeMargin(this.#d.v8, latest, cpf, signal)
      if ((marginOf(full) ?? 0) > 0) return full
    }
    const c = latest ?? seen
    if (!c) {
      throw notFound('termo_nao_encontrado', 'Nenhum termo V8 para este CPF nos últimos 30 dias; execute POST /clt/fluxo-completo primeiro.')
    }
    const details = { termo_id: c.id, status_termo: c.status, motivo: c.description ?? null }
    if (isSimulable(c)) throw unprocessable('sem_margem', 'O termo deste CPF está aprovado, mas sem margem consignável disponível.', details)
    throw unprocessable(
      'termo_nao_aprovado',
      `O termo deste CPF está ${c.status}${c.description ? ` (${c.description})` : ''}; só é possível simular com termo aprovado.`,
      details
    )
  }

  /**
   * Exactly `prazo` installments (no fallback: the caller asked for these terms), of the installment or released
   * amount asked (the margin-sized installment when none).
   */
  async custom (cpf: string, amount: Amount | undefined, prazo: number, signal?: AbortSignal): Promise<SimulacaoResultado> {
    const consult = await this.approvedConsult(cpf, signal)
    const r = await simulateFirst(this.#d.v8, consult, { counts: [prazo], amount, tables: this.#d.config().V8_SIMULATION_TABLE, now: this.#now, signal, known: () => this.#held(cpf) })
    if (!r.ok) {
      const what = amount ? `${amount.kind === 'installment' ? 'parcela de' : 'liberando'} ${amount.value}` : 'pela margem'
      throw new AppError(r.code, `A V8 não simulou ${prazo}x ${what}: ${r.motivo}.`, 422, { tentativas: r.tentativas })
    }
    this.#remember(cpf, r.simulacao, { ...(amount ? { amount } : {}), installments: prazo })
    return r.simulacao
  }

  /** The margin-sized offer again, at the cached installment count first, then 24 → 12 → 6. */
  async fromCache (cpf: string, signal?: AbortSignal): Promise<SimulacaoResultado> {
    const consult = await this.approvedConsult(cpf, signal)
    const cached = this.#d.cache.get(cpf)
    const n = Number(cached?.dadosSimulacao['numero_parcelas'] ?? cached?.dadosSimulacao['number_of_installments'])
    const prazo = Number.isInteger(n) && n > 0 ? n : undefined
    const r = await simulateFirst(this.#d.v8, consult, { counts: installmentPlan(prazo), tables: this.#d.config().V8_SIMULATION_TABLE, now: this.#now, signal, known: () => this.#held(cpf) })
    if (!r.ok) throw new AppError(r.code, `A V8 não simulou: ${r.motivo}.`, 422, { tentativas: r.tentativas })
    this.#remember(cpf, r.simulacao, prazo !== undefined ? { installments: prazo } : {})
    return r.simulacao
  }

  /** The simulations this tenant holds for the CPF (cache, flow result). */
  #held (cpf: string): Array<Record<string, unknown> | null | undefined> {
    return [this.#d.cache.get(cpf)?.dadosSimulacao, this.#d.results.get(cpf)?.resultado?.simulacao_resultado]
  }

  /** The newest simulation goes to the cache and, for the same consult, into the CPF's flow result (the WhatsApp text). */
  #remember (cpf: string, sim: SimulacaoResultado, request: FlowRequest): void {
    const prev = this.#d.cache.get(cpf)
    this.#d.cache.save({ cpf, consultId: sim.consult_id, dadosSimulacao: sim, dadosCliente: prev?.consultId === sim.consult_id ? prev.dadosCliente : null })
    const record = this.#d.results.get(cpf)
    if (record?.status === 'SUCCESS' && record.consultId === sim.consult_id && record.resultado) {
      // The stored request follows the simulation, so fluxo-completo reuses it only when asked for the same terms.
      this.#d.results.save({ ...record, request, resultado: { ...record.resultado, simulacao_resultado: sim }, updatedAt: this.#now() })
    }
  }
}
