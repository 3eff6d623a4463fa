/** The CLT flow (FlowRunner): Kentro opportunity → validation → one V8 consult (reused, resumed) → wait → simulation → CRM. */
import type { TenantConfig } from '../config/schema.js'
import type { Logger } from '../log/logger.js'
import { maskCpf } from '../log/mask.js'
import { UpstreamError } from '../upstream/errors.js'
import type { KentroClient, Opportunity } from '../upstream/kentro.js'
import type { Consult, V8Client } from '../upstream/v8.js'
import { checkBirthDate, FORMS, validateBorrower, type Borrower } from './borrower.js'
import type { SimulationCachePort } from './flow-cache.js'
import { writeBack } from './flow-kentro.js'
import type { FlowRecord, FlowResultsRepo } from './flow-results.js'
import { FINAL_STATUSES, installmentPlan, isSimulable, marginOf, simulateFirst, type SimulacaoResultado } from './flow-simulation.js'
import type { FlowInput, FlowOutcome, FlowResult, FlowRunner } from './flow-types.js'

export interface FlowDeps {
  v8: Pick<V8Client, 'createConsult' | 'authorizeConsult' | 'getConsult' | 'findLatestConsultByCpf' | 'simulationConfigs' | 'simulate'>
  kentro: Pick<KentroClient, 'configured' | 'findOpportunityByCpf' | 'getOpportunity' | 'updateOpportunity' | 'changeOpportunityStage'>
  config: () => TenantConfig
  results: FlowResultsRepo
  cache: SimulationCachePort
  logger: Logger
  now?: () => number
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Consult polling: first interval, growth factor and cap (ms). */
  poll?: { firstMs?: number; factor?: number; maxMs?: number }
}

/** How soon a caller should call again after a pending answer. */
export const RETRY_AFTER_MS = 5_000

interface Ctx {
  input: FlowInput
  signal: AbortSignal | undefined
  deadline: number
  previous: FlowRecord | undefined
  opp: Opportunity | null
  borrower: Borrower | null
  consult: Consult | null
  /** Birth date the current consult was created with, when known. */
  birthDateUsed: string | null
}

export function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** V8's reason when the birth date sent does not match the worker's records. */
export function isBirthDateRejection (description: string | null | undefined): boolean {
  const d = (description ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
  return d.includes('nascimento') || d.includes('birth')
}

export class CltFlow implements FlowRunner {
  readonly #d: FlowDeps
  readonly #now: () => number
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  readonly #poll: { firstMs: number; factor: number; maxMs: number }
  /** One run per CPF at a time in this process: a second call waits and then resumes what the first left. */
  readonly #running = new Map<string, Promise<unknown>>()

  constructor (deps: FlowDeps) {
    this.#d = deps
    this.#now = deps.now ?? Date.now
    this.#sleep = deps.sleep ?? sleep
    this.#poll = { firstMs: 400, factor: 1.6, maxMs: 5_000, ...deps.poll }
  }

  async run (input: FlowInput, opts: { waitMs?: number; signal?: AbortSignal } = {}): Promise<FlowOutcome> {
    const before = this.#running.get(input.cpf) ?? Promise.resolve()
    const mine = before.catch(() => undefined).then(() => this.#run(input, opts))
    const tail = mine.catch(() => undefined)
    this.#running.set(input.cpf, tail)
    try {
      return await mine
    } finally {
      if (this.#running.get(input.cpf) === tail) this.#running.delete(input.cpf)
    }
  }

  async #run (input: FlowInput, opts: { waitMs?: number; signal?: AbortSignal }): Promise<FlowOutcome> {
    const config = this.#d.config()
    const waitMs = Math.max(0, opts.waitMs ?? config.FLOW_WAIT_SECONDS * 1000)
    const ctx: Ctx = {
      input,
      signal: opts.signal,
      deadline: this.#now() + waitMs,
      previous: this.#d.results.get(input.cpf),
      opp: null,
      borrower: null,
      consult: null,
      birthDateUsed: null,
    }

    // 1. The CRM opportunity (a tenant without Kentro relies on dados_cliente alone).
    if (this.#d.kentro.configured) {
      ctx.opp = (await this.#d.kentro.findOpportunityByCpf(input.cpf, ctx.signal)) ?? null
      if (!ctx.opp) {
        const erro = `Nenhuma oportunidade aberta com este CPF nos funis ${config.KENTRO_PIPELINE_IDS.join(', ')} do Kentro.`
        return this.#fail(ctx, 'kentro', 'oportunidade_nao_encontrada', erro)
      }
    }

    // 2. Validation: nothing invented; what is missing is listed for the caller to supply.
    const v = validateBorrower({ cpf: input.cpf, opportunity: ctx.opp, dados: input.dados_cliente, genderField: config.KENTRO_GENDER_FIELD, now: this.#now() })
    if (!v.ok) {
      const list = v.campos.map((c) => `${c} (${v.motivos[c]})`).join(', ')
      const noCrm = this.#d.kentro.configured ? '' : ' O Kentro não está configurado nesta porta, então todos os dados vêm de dados_cliente.'
      return this.#fail(ctx, 'validacao', 'dados_faltantes', `Dados obrigatórios ausentes ou inválidos: ${list}. Envie-os em dados_cliente.${noCrm}`, {
        campos: v.campos,
        motivos: v.motivos,
        ...(this.#d.kentro.configured ? {} : { kentro_configurado: false }),
      })
    }
    ctx.borrower = v.borrower

    // 3. The CPF's consult: resume the existing one; create one only when there is none to resume.
    let consult = await this.#existingConsult(ctx)
    let retried = false
    const rejectedAtStart = consult?.status === 'REJECTED'
    if (consult?.status === 'REJECTED' && this.#birthDateCorrected(ctx, consult)) {
      this.#d.logger.info({ cpf: maskCpf(input.cpf), consult: consult.id }, 'clt flow: birth date corrected since the rejection; new consult')
      consult = undefined
      retried = true
    } else if (consult?.status === 'FAILED') {
      // A technical failure at V8 ends that consult; a new one is the only way forward.
      consult = undefined
    }
    if (!consult) {
      const created = await this.#create(ctx)
      if (!created.ok) return created.outcome
      consult = created.consult
    }

    // 4. Authorize and wait (bounded); a birth-date rejection with corrected CRM data is retried once.
    for (;;) {
      consult = await this.#authorizeAndWait(ctx, consult)
      // Only a consult whose birth date we know, and not one already compared above, is worth re-reading the CRM for.
      if (consult.status !== 'REJECTED' || retried || rejectedAtStart || ctx.birthDateUsed === null || !isBirthDateRejection(consult.description)) break
      const fresh = await this.#currentBirthDate(ctx)
      if (fresh === null || fresh === ctx.birthDateUsed) break
      this.#d.logger.info({ cpf: maskCpf(input.cpf), consult: consult.id }, 'clt flow: CRM birth date changed after the rejection; new consult')
      ctx.borrower = { ...ctx.borrower, birthDate: fresh }
      retried = true
      const created = await this.#create(ctx)
      if (!created.ok) return created.outcome
      consult = created.consult
    }
    ctx.consult = consult

    if (consult.status === 'REJECTED') {
      const motivo = consult.description ?? 'sem motivo informado pela V8'
      return this.#fail(ctx, 'termo', 'termo_recusado', `Termo recusado pela V8: ${motivo}`, undefined, { motivo_falha: motivo })
    }
    if (consult.status === 'FAILED') {
      const motivo = consult.description ?? 'falha técnica na V8'
      return this.#fail(ctx, 'termo', 'termo_falhou', `A consulta falhou na V8: ${motivo}. Chame novamente para abrir uma nova consulta.`, undefined, { motivo_falha: motivo })
    }
    if (!isSimulable(consult)) return this.#pending(ctx)

    // 5. Margin and simulation (a stored simulation of the same consult and request is reused, not repeated).
    const margin = marginOf(consult)
    if (margin === null ? input.valor === undefined : margin <= 0) {
      const motivo = 'sem margem consignável disponível'
      return this.#fail(ctx, 'margem', 'sem_margem', `O termo foi aprovado, mas o trabalhador está ${motivo}.`, undefined, { motivo_falha: motivo })
    }
    const reusable = this.#reusableSimulation(ctx, consult, config)
    let simulacao: SimulacaoResultado
    if (reusable) {
      simulacao = reusable
    } else {
      const known = () => [ctx.previous?.resultado?.simulacao_resultado, this.#d.cache.get(input.cpf)?.dadosSimulacao]
      const r = await simulateFirst(this.#d.v8, consult, { counts: installmentPlan(input.prazo), valor: input.valor, now: this.#now, signal: ctx.signal, known })
      if (!r.ok) {
        return this.#fail(ctx, 'simulacao', r.code, `Não foi possível simular: ${r.motivo}.`, { tentativas: r.tentativas }, { motivo_falha: r.motivo })
      }
      simulacao = r.simulacao
    }
    const b = ctx.borrower
    this.#d.cache.save({
      cpf: input.cpf,
      consultId: consult.id,
      dadosSimulacao: simulacao,
      dadosCliente: { nome: b.nome, telefone: b.mobile.full, email: b.email, data_nascimento: b.birthDate, oportunidade_id: ctx.opp?.id ?? null },
    })

    // 6. Stored before the CRM write, so a failed write is retried by the next call without a new simulation.
    const resultado = this.#result(ctx, { sucesso: true, simulacao_resultado: simulacao })
    const synced = reusable !== null && ctx.previous?.kentroSynced === true
    this.#save(ctx, 'SUCCESS', 'kentro_retorno', { resultado, kentroSynced: synced || ctx.opp === null })
    if (ctx.opp && !synced) {
      await writeBack(this.#d.kentro, ctx.opp, b, simulacao, margin, config, this.#now(), ctx.signal)
      this.#save(ctx, 'SUCCESS', 'concluido', { resultado, kentroSynced: true })
    }
    this.#d.logger.info({ cpf: maskCpf(input.cpf), consult: consult.id, parcelas: simulacao.numero_parcelas, reused: reusable !== null }, 'clt flow: simulated')
    return { kind: 'success', etapa: 'concluido', resultado }
  }

  /** The consult to resume: the one this service last used, else the CPF's newest at V8. */
  async #existingConsult (ctx: Ctx): Promise<Consult | undefined> {
    const prevId = ctx.previous?.consultId
    let consult: Consult | undefined
    if (prevId) {
      try {
        consult = await this.#d.v8.getConsult(prevId, ctx.signal)
      } catch (err) {
        if (!(err instanceof UpstreamError && err.statusCode === 404)) throw err
      }
    }
    // An ended consult of ours may have been followed by a newer one (made elsewhere): look before creating.
    if (!consult || consult.status === 'REJECTED' || consult.status === 'FAILED') {
      const latest = await this.#d.v8.findLatestConsultByCpf(ctx.input.cpf, { signal: ctx.signal })
      if (latest && (!consult || latest.id !== consult.id)) consult = latest
    }
    ctx.birthDateUsed = consult && consult.id === prevId ? (ctx.previous?.birthDateUsed ?? null) : null
    if (consult) ctx.consult = consult
    return consult
  }

  /** A birth-date rejection of a consult made with a birth date other than the one we would send now. */
  #birthDateCorrected (ctx: Ctx, consult: Consult): boolean {
    return isBirthDateRejection(consult.description) && ctx.birthDateUsed !== null && ctx.borrower !== null && ctx.birthDateUsed !== ctx.borrower.birthDate
  }

  async #create (ctx: Ctx): Promise<{ ok: true; consult: Consult } | { ok: false; outcome: FlowOutcome }> {
    const b = ctx.borrower!
    try {
      const r = await this.#d.v8.createConsult(
        {
          borrowerDocumentNumber: b.cpf,
          gender: b.sexo === 'M' ? 'male' : 'female',
          birthDate: b.birthDate,
          signerName: b.nome,
          signerEmail: b.email,
          signerPhone: { phoneNumber: b.mobile.number, countryCode: '55', areaCode: b.mobile.areaCode },
        },
        ctx.signal
      )
      // Reused only when V8 already holds an active consult for the CPF — made with these data by an earlier attempt.
      ctx.birthDateUsed = b.birthDate
      ctx.consult = { id: r.id, status: r.status, description: null, availableMarginValue: null }
      // Recorded at once: if this process dies now, the next call resumes this consult and knows its birth date.
      this.#save(ctx, 'PENDING', 'termo', { resultado: this.#result(ctx, { pendente: true }), kentroSynced: false })
      this.#d.logger.info({ cpf: maskCpf(b.cpf), consult: r.id, reused: r.reused }, 'clt flow: consult created')
      return { ok: true, consult: ctx.consult }
    } catch (err) {
      // A business refusal of the consult itself (e.g. minimum age) is an outcome; transient trouble goes up.
      if (!(err instanceof UpstreamError) || err.statusCode !== 422) throw err
      const motivo = typeof err.details?.['motivo'] === 'string' ? err.details['motivo'] : err.message
      return { ok: false, outcome: this.#fail(ctx, 'termo', 'termo_nao_criado', `A V8 recusou abrir a consulta: ${motivo}`, { tipo: err.code }, { motivo_falha: motivo }) }
    }
  }

  /** Authorize when still waiting for consent, then poll with backoff until usable, final, or the deadline. */
  async #authorizeAndWait (ctx: Ctx, start: Consult): Promise<Consult> {
    let consult = start
    if (consult.status === 'WAITING_CONSENT') {
      await this.#d.v8.authorizeConsult(consult.id, ctx.signal)
      consult = await this.#d.v8.getConsult(consult.id, ctx.signal)
    }
    let delay = this.#poll.firstMs
    for (;;) {
      ctx.consult = consult
      if (FINAL_STATUSES.has(consult.status) || isSimulable(consult)) return consult
      const left = ctx.deadline - this.#now()
      if (left <= 0) return consult
      await this.#sleep(Math.min(delay, left), ctx.signal)
      delay = Math.min(delay * this.#poll.factor, this.#poll.maxMs)
      consult = await this.#d.v8.getConsult(consult.id, ctx.signal)
    }
  }

  /** The birth date to use now: the caller's, else the CRM's as it reads at this moment (null when unusable). */
  async #currentBirthDate (ctx: Ctx): Promise<string | null> {
    const b = ctx.borrower!
    if (b.origem.data_nascimento === 'cliente' || !ctx.opp) return b.birthDate
    const fresh = await this.#d.kentro.getOpportunity(ctx.opp.id, ctx.signal)
    const r = checkBirthDate(fresh.formsdata[FORMS.birthDate], this.#now())
    return r.ok ? r.value : null
  }

  #reusableSimulation (ctx: Ctx, consult: Consult, config: TenantConfig): SimulacaoResultado | null {
    const p = ctx.previous
    const sim = p?.resultado?.simulacao_resultado
    if (!p || p.status !== 'SUCCESS' || p.consultId !== consult.id || !sim) return null
    if (p.pedido.valor !== ctx.input.valor || p.pedido.prazo !== ctx.input.prazo) return null
    if (this.#now() - p.updatedAt > config.CACHE_TTL_HOURS * 3_600_000) return null
    return sim as SimulacaoResultado
  }

  #result (ctx: Ctx, extra: Partial<FlowResult>): FlowResult {
    const b = ctx.borrower
    const c = ctx.consult
    return {
      sucesso: false,
      oportunidade_id: ctx.opp?.id ?? null,
      dados_validados: b ? { nome: b.nome, cpf: b.cpf, telefone: b.mobile.full, data_nascimento: b.birthDate, email: b.email } : null,
      termo_resultado: c ? { id: c.id, status: c.status, description: c.description ?? null, availableMarginValue: c.availableMarginValue ?? null } : null,
      simulacao_resultado: null,
      status_termo: c?.status ?? null,
      motivo_falha: null,
      ...extra,
    }
  }

  #pending (ctx: Ctx): FlowOutcome {
    const resultado = this.#result(ctx, { pendente: true })
    this.#save(ctx, 'PENDING', 'aguardando', { resultado, kentroSynced: false })
    return { kind: 'pending', etapa: 'aguardando', resultado, retryAfterMs: RETRY_AFTER_MS }
  }

  #fail (ctx: Ctx, etapa: string, code: string, erro: string, details?: Record<string, unknown>, extra: Partial<FlowResult> = {}): FlowOutcome {
    const resultado = this.#result(ctx, { motivo_falha: erro, ...extra })
    this.#save(ctx, 'FAILED', etapa, { resultado, kentroSynced: false, code, erro, details: details ?? null })
    this.#d.logger.info({ cpf: maskCpf(ctx.input.cpf), etapa, code }, 'clt flow: not completed')
    return { kind: 'failed', etapa, code, erro, resultado, ...(details ? { details } : {}) }
  }

  #save (
    ctx: Ctx,
    status: FlowRecord['status'],
    etapa: string,
    r: { resultado: FlowResult; kentroSynced: boolean; code?: string; erro?: string; details?: Record<string, unknown> | null }
  ): void {
    // Without a consult of its own, this run keeps what the previous record knew about the CPF's consult.
    const consultId = ctx.consult?.id ?? ctx.previous?.consultId ?? null
    const birthDateUsed = ctx.consult ? ctx.birthDateUsed : (ctx.previous?.birthDateUsed ?? null)
    const record: FlowRecord = {
      cpf: ctx.input.cpf,
      status,
      etapa,
      code: r.code ?? null,
      erro: r.erro ?? null,
      details: r.details ?? null,
      consultId,
      resultado: r.resultado,
      birthDateUsed,
      pedido: { ...(ctx.input.valor !== undefined ? { valor: ctx.input.valor } : {}), ...(ctx.input.prazo !== undefined ? { prazo: ctx.input.prazo } : {}) },
      kentroSynced: r.kentroSynced,
      updatedAt: this.#now(),
    }
    this.#d.results.save(record)
  }
}
