/**
 * Proposals (V8 operations) for one tenant: created from the CPF's approved simulation with the borrower data the CRM
 * and the request give, never sent twice (a lost answer is looked up by CPF and date before anything else), moved by
 * V8's events and detail reads without ever leaving a final status, announced to the client (outbox) and the CRM.
 * Over 300 lines on purpose: create, adopt, move and cancel share one set of status rules, kept in one class.
 */
import { randomUUID } from 'node:crypto'
import { stageByStatus, type TenantConfig } from '../../config/schema.js'
import type { Db } from '../../db/database.js'
import { AppError, conflict, notFound, unprocessable } from '../../errors.js'
import type { Logger } from '../../log/logger.js'
import { maskCpf } from '../../log/mask.js'
import { UpstreamError } from '../../upstream/errors.js'
import type { KentroClient, Opportunity } from '../../upstream/kentro.js'
import type { BankData, DocumentType, OperationBorrower, V8Operations } from '../../upstream/v8-operations.js'
import type { V8Client } from '../../upstream/v8.js'
import type { Outbox } from '../events/outbox.js'
import type { SimulationCachePort } from '../flow/cache-port.js'
import type { FlowResultsRepository } from '../flow/results.js'
import { pixKey, resolveProposalBorrower, type PendingBank, type ProposalInput } from './borrower.js'
import { ProposalRepository, type ListQuery, type Proposal } from './repository.js'
import { canMove, isOpen, STATUS_PT } from './statuses.js'

export interface ProposalServiceDeps {
  db: Db
  v8: Pick<V8Client, 'getConsult'>
  ops: Pick<V8Operations, 'create' | 'get' | 'findByCpf' | 'cancel' | 'paymentData' | 'uploadDocument' | 'present' | 'bankId'>
  kentro: Pick<KentroClient, 'configured' | 'getOpportunity' | 'findOpportunityByCpf' | 'changeOpportunityStage'>
  results: Pick<FlowResultsRepository, 'get'>
  cache: Pick<SimulationCachePort, 'get'>
  outbox: Pick<Outbox, 'enqueue'>
  config: () => TenantConfig
  logger: Logger
  now: () => number
}

/** How a V8 event about an operation was taken. */
export type EventEffect = 'applied' | 'duplicate' | 'stale' | 'unknown'

/** A lost create answer older than this, still not found by lookup, is given up (a new proposal may then be sent). */
const LOOKUP_GRACE_MS = 2 * 60_000

export class ProposalService {
  readonly repo: ProposalRepository
  readonly #d: ProposalServiceDeps
  /** CPFs whose creation is in flight in this process (a parallel call gets 409 instead of waiting on V8). */
  readonly #creating = new Set<string>()

  constructor (deps: ProposalServiceDeps) {
    this.#d = deps
    this.repo = new ProposalRepository(deps.db)
  }

  /**
   * Create the CPF's proposal. A repeated call for the same simulation returns the proposal already made; a call
   * after a lost answer first looks the operation up at V8. Returns the proposal and whether this call created it.
   */
  async create (cpf: string, input: ProposalInput & { id_simulacao?: string | null | undefined }, signal?: AbortSignal): Promise<{ proposal: Proposal; created: boolean }> {
    if (this.#creating.has(cpf)) throw conflict('proposta_em_criacao', 'Já há uma proposta deste CPF sendo criada; aguarde a resposta dela.')
    this.#creating.add(cpf)
    try {
      const recovered = await this.#settleOpenCreation(cpf, signal)
      if (recovered) return { proposal: recovered, created: false }
      const record = this.#d.results.get(cpf)
      const simulationId = this.#simulationOf(cpf, input.id_simulacao)
      const latest = this.repo.latestOf(cpf)
      if (latest && isOpen(latest.status)) {
        if (latest.simulationId === simulationId) return { proposal: latest, created: false }
        // Two live loans for one CPF are never what a bot retrying meant: the first one is canceled on purpose first.
        throw conflict('proposta_ativa', `Este CPF já tem uma proposta ${STATUS_PT[latest.status] ?? latest.status}; cancele-a (POST /clt/propostas/${latest.id}/cancelar) antes de criar outra.`, { proposta_id: latest.id })
      }

      const flow = record?.resultado?.dados_validados
      if (!flow) throw unprocessable('sem_fluxo', 'Este CPF não tem dados validados; execute POST /clt/fluxo-completo antes da proposta.')
      const consultId = record?.consultId ?? this.#d.cache.get(cpf)?.consultId ?? null
      const opp = await this.#opportunity(cpf, record?.resultado?.oportunidade_id ?? null, signal)
      const workData = consultId ? await this.#workData(consultId, signal) : undefined
      const resolved = resolveProposalBorrower({ cpf, input, flow, opp, defaultNationality: this.#d.config().DEFAULT_NATIONALITY, workData, now: this.#d.now() })
      if (!resolved.ok) {
        const list = resolved.campos.map((c) => `${c} (${resolved.motivos[c]})`).join(', ')
        throw unprocessable('dados_faltantes', `Dados obrigatórios da proposta ausentes ou inválidos: ${list}.`, { campos: resolved.campos, motivos: resolved.motivos })
      }
      const borrower: OperationBorrower = { ...resolved.borrower, bank: await this.#bank(resolved.borrower.bank, signal) }
      const proposal = this.repo.insert({ id: randomUUID(), cpf, simulationId, consultId, opportunityId: opp?.id ?? null, sent: { borrower, origem: resolved.origem }, now: this.#d.now() })
      return { proposal: await this.#send(proposal, borrower, signal), created: true }
    } finally {
      this.#creating.delete(cpf)
    }
  }

  /** The simulation to contract: the one asked for, else the CPF's cached offer, else its flow result's. */
  #simulationOf (cpf: string, asked: string | null | undefined): string {
    if (asked) return asked
    const fromCache = this.#d.cache.get(cpf)?.dadosSimulacao['id_simulation']
    const record = this.#d.results.get(cpf)
    const fromFlow = record?.status === 'SUCCESS' ? record.resultado?.simulacao_resultado?.['id_simulation'] : undefined
    const id = typeof fromCache === 'string' ? fromCache : typeof fromFlow === 'string' ? fromFlow : undefined
    if (!id) throw unprocessable('sem_simulacao', 'Este CPF não tem simulação aprovada; execute POST /clt/fluxo-completo (ou uma simulação) antes da proposta.')
    return id
  }

  async #opportunity (cpf: string, id: string | null, signal?: AbortSignal): Promise<Opportunity | null> {
    const { kentro } = this.#d
    if (!kentro.configured) return null
    if (id) {
      try {
        return await kentro.getOpportunity(id, signal)
      } catch (err) {
        if (!(err instanceof UpstreamError && err.statusCode === 404)) throw err
      }
    }
    return (await kentro.findOpportunityByCpf(cpf, signal)) ?? null
  }

  /** Employer data from the consult detail (two callers send it as work_data); absent when V8 does not give all three. */
  async #workData (consultId: string, signal?: AbortSignal): Promise<OperationBorrower['work_data']> {
    try {
      const c = (await this.#d.v8.getConsult(consultId, signal)) as Record<string, unknown>
      const [name, doc, reg] = [c['employerName'], c['employerDocumentNumber'], c['registrationNumber']].map((v) => (typeof v === 'string' || typeof v === 'number' ? String(v).trim() : ''))
      return name && doc && reg ? { employer_name: name, employer_document_number: doc, registration_number: reg } : undefined
    } catch (err) {
      if (err instanceof UpstreamError && !err.transient) return undefined
      throw err
    }
  }

  async #bank (b: PendingBank, signal?: AbortSignal): Promise<BankData> {
    if (b.transfer_method === 'pix') return b
    return { ...b, bank_id: await this.#d.ops.bankId(b.bank_code, signal) }
  }

  /** Send the creation once; map each way it can end onto the proposal. */
  async #send (p: Proposal, borrower: OperationBorrower, signal?: AbortSignal): Promise<Proposal> {
    try {
      const created = await this.#d.ops.create({ simulation_id: p.simulationId, borrower }, signal)
      const status = created.status ?? 'generating_ccb'
      let saved = this.#move(p, { operationId: created.id, status, formalizationUrl: created.formalizationUrl ?? undefined }, 'criacao')
      if (!saved.formalizationUrl) saved = await this.refresh(saved.id, signal).catch(() => saved)
      this.#d.logger.info({ cpf: maskCpf(p.cpf), proposta: p.id, operation: created.id }, 'proposal created')
      await this.syncKentro(saved.id, false, signal)
      return this.repo.get(saved.id)!
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err
      if (err.ambiguous || err.code === 'upstream_invalid_response') {
        const found = await this.#lookup(p, signal).catch(() => undefined)
        if (found) return found
        this.#move(p, { status: 'indefinida', error: err.message }, 'criacao')
        throw new AppError('proposta_indefinida', `A V8 não confirmou a criação da proposta (${err.message}). Ela não será reenviada às cegas: chame POST /clt/proposta de novo em alguns minutos e ela será procurada na V8 antes.`, 503, { proposta_id: p.id })
      }
      if (err.statusCode === 503 && !err.ambiguous) {
        // Never left (connection refused, V8 not configured): nothing to look up later.
        this.#move(p, { status: 'recusada', error: err.message }, 'criacao')
        throw err
      }
      this.#move(p, { status: 'recusada', error: err.message }, 'criacao')
      const motivo = typeof err.details?.['motivo'] === 'string' ? err.details['motivo'] : err.message
      throw new AppError(err.code === 'upstream_rejected' ? 'proposta_recusada' : err.code, `A V8 recusou a proposta: ${motivo}`, err.statusCode, { proposta_id: p.id, ...err.details })
    }
  }

  /**
   * A creation whose answer was lost (or whose process died mid-call): found at V8 by CPF and date → adopted;
   * not found yet → 409 until LOOKUP_GRACE_MS has passed, then given up so a new proposal may go.
   */
  async #settleOpenCreation (cpf: string, signal?: AbortSignal): Promise<Proposal | undefined> {
    const open = this.repo.openCreation(cpf)
    if (!open) return undefined
    const found = await this.#lookup(open, signal)
    if (found) return found
    if (this.#d.now() - open.createdAt < LOOKUP_GRACE_MS) {
      throw conflict('proposta_indefinida', 'A criação anterior deste CPF ainda não foi confirmada pela V8 nem encontrada; tente de novo em alguns minutos.', { proposta_id: open.id })
    }
    this.#move(open, { status: 'sem_confirmacao' }, 'busca')
    return undefined
  }

  /** An operation of this CPF created since the attempt, not yet linked to another proposal, becomes this proposal's. */
  async #lookup (p: Proposal, signal?: AbortSignal): Promise<Proposal | undefined> {
    const rows = await this.#d.ops.findByCpf(p.cpf, p.createdAt - 60_000, signal)
    const op = rows.find((r) => !this.repo.byOperation(r.operationId) && Date.parse(r.createdAt ?? '') >= p.createdAt - 60_000)
    if (!op) return undefined
    this.#d.logger.info({ cpf: maskCpf(p.cpf), proposta: p.id, operation: op.operationId }, 'proposal found at V8 after a lost answer')
    const adopted = this.#move(p, { operationId: op.operationId, status: op.status.toLowerCase(), error: null }, 'busca')
    return this.refresh(adopted.id, signal).catch(() => adopted)
  }

  /** Apply a change and queue its event in one transaction; a race with another writer re-reads and re-applies. */
  #move (p: Proposal, change: Parameters<ProposalRepository['save']>[1], origem: string): Proposal {
    let current = p
    for (let i = 0; i < 5; i++) {
      const saved = this.#d.db.transaction(() => {
        const next = this.repo.save(current, change, origem, this.#d.now())
        if (next && next.version !== current.version) this.#announce(next, current.status)
        return next
      })()
      if (saved) return saved
      current = this.repo.get(p.id)!
      if (change.status && !canMove(current.status, change.status) && current.status !== change.status) return current
    }
    throw new AppError('conflito_de_escrita', 'A proposta mudou durante a atualização; tente de novo.', 409)
  }

  #announce (p: Proposal, previous: string): void {
    this.#d.outbox.enqueue({
      id: `proposta_${p.id}_${p.version}`,
      type: 'proposta.status',
      data: { proposta_id: p.id, operacao_id: p.operationId, cpf: p.cpf, status: p.status, status_anterior: previous, descricao: STATUS_PT[p.status] ?? p.status, formalization_url: p.formalizationUrl, numero_contrato: p.contractNumber },
    })
  }

  /** V8 says the operation is now `status` (webhook). */
  applyEvent (operationId: string, status: string): { effect: EventEffect; proposal?: Proposal } {
    const p = this.repo.byOperation(operationId)
    if (!p) return { effect: 'unknown' }
    if (p.status === status) return { effect: 'duplicate', proposal: p }
    if (!canMove(p.status, status)) return { effect: 'stale', proposal: p }
    return { effect: 'applied', proposal: this.#move(p, { status }, 'webhook') }
  }

  get (id: string): Proposal {
    const p = this.repo.get(id)
    if (!p) throw notFound('proposta_nao_encontrada', 'Proposta não encontrada (use o proposta_id ou o id da operação na V8).')
    return p
  }

  list (q: ListQuery): { total: number; items: Proposal[] } {
    return this.repo.list(q)
  }

  latestOf (cpf: string): Proposal | undefined {
    return this.repo.latestOf(cpf)
  }

  /** Read V8's detail: status (never out of a final one), the formalization link (contract_url), the contract number. */
  async refresh (id: string, signal?: AbortSignal): Promise<Proposal> {
    const p = this.#withOperation(id)
    const d = await this.#d.ops.get(p.operationId!, signal)
    const status = canMove(p.status, d.status) ? d.status : undefined
    // contract_url is the signing link while the contract awaits signature (one caller); later it is the contract itself.
    const signing = ['generating_ccb', 'formalization'].includes(status ?? p.status)
    const url = d.formalization_url ?? (signing ? d.contract_url : null) ?? undefined
    return this.#move(p, { ...(status ? { status } : {}), formalizationUrl: p.formalizationUrl ? undefined : url, contractNumber: d.contract_number ?? undefined }, 'consulta')
  }

  /** Ask V8 to cancel; the proposal shows awaiting_cancel until V8 says canceled. */
  async cancel (id: string, reason: { motivo?: string | undefined; descricao: string }, signal?: AbortSignal): Promise<Proposal> {
    const p = this.#withOperation(id)
    if (!isOpen(p.status) || p.status === 'awaiting_cancel') throw conflict('proposta_nao_cancelavel', `A proposta está ${STATUS_PT[p.status] ?? p.status}; não pode ser cancelada.`)
    await this.#d.ops.cancel(p.operationId!, { cancel_reason: reason.motivo ?? 'invalid_data:other', cancel_description: reason.descricao.slice(0, 200) }, signal)
    const moved = this.#move(p, { status: 'awaiting_cancel' }, 'cancelamento')
    await this.syncKentro(moved.id, false, signal)
    return this.repo.get(moved.id)!
  }

  /** New PIX key for a pending proposal (the key type is read from its form unless given). */
  async paymentData (id: string, pix: { chave: string; tipo?: string | undefined }, signal?: AbortSignal): Promise<Proposal> {
    const p = this.#withOperation(id)
    const phone = p.sent.borrower?.phone
    const key = pixKey(pix.chave, { cpf: p.cpf, phone: phone ? phone.area_code + phone.number : '' }, pix.tipo)
    if (!key.ok) throw unprocessable('pix_invalido', key.motivo, { campos: ['chave'] })
    await this.#d.ops.paymentData(p.operationId!, { transfer_method: 'pix', ...key.value }, signal)
    return p
  }

  async uploadDocument (id: string, doc: { type: DocumentType; fileName: string; contentType: string; data: Buffer }, signal?: AbortSignal): Promise<Proposal> {
    const p = this.#withOperation(id)
    await this.#d.ops.uploadDocument(p.operationId!, doc, signal)
    return p
  }

  async present (id: string, signal?: AbortSignal): Promise<Proposal> {
    const p = this.#withOperation(id)
    await this.#d.ops.present(p.operationId!, signal)
    return p
  }

  #withOperation (id: string): Proposal {
    const p = this.get(id)
    if (!p.operationId) throw conflict('proposta_sem_operacao', `A proposta ainda não tem operação na V8 (${STATUS_PT[p.status] ?? p.status}).`)
    return p
  }

  /**
   * Move the CRM opportunity to the stage mapped to the proposal's status (KENTRO_STAGE_BY_STATUS), once per status.
   * A refusal is kept on the proposal; trouble that may pass is thrown when `strict` (the event is applied again).
   */
  async syncKentro (id: string, strict: boolean, signal?: AbortSignal): Promise<void> {
    const p = this.repo.get(id)
    if (!p?.opportunityId || !this.#d.kentro.configured) return
    const stage = stageByStatus(this.#d.config())[p.status]
    if (stage === undefined || p.kentroStatus === p.status) return
    try {
      await this.#d.kentro.changeOpportunityStage(p.opportunityId, stage, signal)
      this.repo.setKentro(p.id, p.status, null)
    } catch (err) {
      const transient = err instanceof UpstreamError && err.transient
      this.repo.setKentro(p.id, p.kentroStatus, err instanceof Error ? err.message.slice(0, 300) : String(err))
      this.#d.logger.warn({ proposta: p.id, opportunity: p.opportunityId, code: (err as { code?: string }).code }, 'proposal: CRM stage not moved')
      if (strict && transient) throw err
    }
  }
}
