/**
 * Applies stored V8 events, off the request path. A consult that ended finishes the CPF's pending flow (its batch items
 * are made due, or the flow is resumed here) with nobody calling again; an operation event moves its proposal. V8 is
 * asked again rather than trusted blindly (the flow re-reads the consult), so a late or repeated event changes nothing.
 */
import { AppError } from '../../errors.js'
import type { Logger } from '../../log/logger.js'
import { maskCpf } from '../../log/mask.js'
import { parseV8Event } from '../../upstream/v8-events.js'
import type { BatchService } from '../batches/service.js'
import { isTransient } from '../batches/policy.js'
import type { FlowResultsRepository } from '../flow/results.js'
import type { FlowRunner } from '../flow/types.js'
import type { ProposalService } from '../proposals/service.js'
import type { InboxItem, WebhookInbox } from './inbox.js'

export interface ApplierDeps {
  inbox: WebhookInbox
  results: Pick<FlowResultsRepository, 'get' | 'cpfsOfConsult'>
  flow: FlowRunner
  batches: Pick<BatchService, 'dueNow'>
  proposals: Pick<ProposalService, 'applyEvent' | 'syncKentro'>
  logger: Logger
  now: () => number
  /** Events applied at once (each may run a flow: a few upstream calls). */
  concurrency?: number
  pollMs?: number
  leaseMs?: number
  /** Delays before looking again for an event whose consult or operation we do not know yet (a create answer may trail its event). */
  unknownDelaysMs?: readonly number[]
}

type Result = { state: 'applied' | 'ignored' | 'failed'; outcome: string } | { retryInMs: number; outcome: string }

const FINAL_CONSULT = new Set(['SUCCESS', 'REJECTED', 'FAILED'])
const MAX_TRANSIENT = 20
const MAX_STILL_PENDING = 8
const RETENTION_MS = 30 * 86_400_000

export class EventApplier {
  readonly #d: Required<ApplierDeps>
  readonly #inFlight = new Map<string, AbortController>()
  #loops: Promise<void>[] = []
  #wakers = new Set<() => void>()
  #stopping = false
  #stopped: Promise<void> | undefined
  #lastPurge = 0

  constructor (deps: ApplierDeps) {
    this.#d = { concurrency: 2, pollMs: 5_000, leaseMs: 120_000, unknownDelaysMs: [2_000, 5_000, 15_000, 30_000, 60_000], ...deps }
  }

  start (): void {
    if (this.#loops.length > 0 || this.#stopping) return
    for (let i = 0; i < this.#d.concurrency; i++) this.#loops.push(this.#loop())
  }

  /** A new event was stored: look now. */
  wake (): void {
    for (const w of [...this.#wakers]) w()
  }

  get inFlight (): number {
    return this.#inFlight.size
  }

  /** Stop taking events; those in flight get `budgetMs`, then are aborted and left due at once for the next process. */
  stop (budgetMs = 5_000): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true
      this.wake()
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.allSettled(this.#loops), new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)))])
      clearTimeout(timer)
      for (const [id, abort] of this.#inFlight) {
        abort.abort(new AppError('servico_encerrando', 'O serviço está encerrando.', 503))
        try {
          this.#d.inbox.retryAt(id, this.#d.now(), 'interrompido no encerramento')
        } catch {
          // the database is closing: the lease expires on its own
        }
      }
      await Promise.allSettled(this.#loops)
    })()
    return this.#stopped
  }

  async #loop (): Promise<void> {
    while (!this.#stopping) {
      let item: InboxItem | undefined
      try {
        item = this.#d.inbox.claim(this.#d.now(), this.#d.leaseMs)
        this.#maintain()
      } catch (err) {
        if (this.#stopping) return
        this.#d.logger.warn({ err }, 'webhooks: claim failed; retrying')
      }
      if (!item) {
        await this.#idle()
        continue
      }
      await this.#run(item)
    }
  }

  async #run (item: InboxItem): Promise<void> {
    const abort = new AbortController()
    this.#inFlight.set(item.id, abort)
    try {
      let r: Result
      try {
        r = await this.#apply(item, abort.signal)
      } catch (err) {
        if (abort.signal.aborted) return
        if (isTransient(err) && item.attempts < MAX_TRANSIENT) {
          r = { retryInMs: Math.min(600_000, 5_000 * 2 ** (item.attempts - 1)), outcome: `temporario: ${(err as AppError).code}` }
        } else {
          this.#d.logger.error({ err, event: item.id, type: item.type }, 'webhooks: event could not be applied')
          r = { state: 'failed', outcome: err instanceof AppError ? err.code : 'erro_interno' }
        }
      }
      if (abort.signal.aborted) return
      if ('retryInMs' in r) this.#d.inbox.retryAt(item.id, this.#d.now() + r.retryInMs, r.outcome)
      else this.#d.inbox.finish(item.id, r.state, r.outcome, this.#d.now())
    } catch (err) {
      if (!this.#stopping) this.#d.logger.error({ err, event: item.id }, 'webhooks: could not record an event outcome')
    } finally {
      this.#inFlight.delete(item.id)
    }
  }

  async #apply (item: InboxItem, signal: AbortSignal): Promise<Result> {
    const e = parseV8Event(item.payload)
    if (e.kind === 'consult') {
      const margin = Number(e.availableMarginValue ?? '0')
      if (!FINAL_CONSULT.has(e.status) && !(e.status === 'WAITING_CREDIT_ANALYSIS' && margin > 0)) return { state: 'ignored', outcome: 'status_intermediario' }
      return this.#consultEnded(item, e.consultId, signal)
    }
    if (e.kind === 'operation') {
      const r = this.#d.proposals.applyEvent(e.operationId, e.status)
      if (r.effect === 'unknown') return this.#unknown(item, 'operacao_desconhecida')
      if (r.effect === 'stale') return { state: 'ignored', outcome: `fora_de_ordem (proposta já ${r.proposal?.status})` }
      await this.#d.proposals.syncKentro(r.proposal!.id, true, signal)
      return { state: 'applied', outcome: r.effect === 'duplicate' ? 'repetido' : `proposta ${r.proposal!.status}` }
    }
    return { state: 'ignored', outcome: e.kind === 'unknown' ? e.problem : 'handshake' }
  }

  async #consultEnded (item: InboxItem, consultId: string, signal: AbortSignal): Promise<Result> {
    const cpfs = this.#d.results.cpfsOfConsult(consultId)
    if (cpfs.length === 0) return this.#unknown(item, 'consulta_desconhecida')
    const outcomes: string[] = []
    let stillPending = false
    for (const cpf of cpfs) {
      const record = this.#d.results.get(cpf)
      if (!record || record.consultId !== consultId || record.status !== 'PENDING') {
        outcomes.push('ja_concluido')
        continue
      }
      // Batch items of the CPF run the flow themselves, now instead of at their next poll.
      if (this.#d.batches.dueNow(cpf) > 0) {
        outcomes.push('lote_acordado')
        continue
      }
      const { amount, installments, supplied } = record.request
      const outcome = await this.#d.flow.run(
        { cpf, ...(amount ? { amount } : {}), ...(installments !== undefined ? { installments } : {}), ...(supplied ? { supplied } : {}) },
        { waitMs: 0, signal }
      )
      this.#d.logger.info({ cpf: maskCpf(cpf), consult: consultId, result: outcome.kind }, 'webhooks: pending flow resumed by a V8 event')
      if (outcome.kind === 'pending') stillPending = true
      outcomes.push(outcome.kind === 'pending' ? 'ainda_pendente' : `fluxo ${outcome.kind === 'success' ? 'concluido' : outcome.code}`)
    }
    // V8 said it ended but still shows it in progress: look again shortly (polling covers it if this runs out).
    if (stillPending && item.attempts < MAX_STILL_PENDING) return { retryInMs: 3_000 * item.attempts, outcome: outcomes.join('; ') }
    return { state: 'applied', outcome: outcomes.join('; ') }
  }

  #unknown (item: InboxItem, outcome: string): Result {
    const delay = this.#d.unknownDelaysMs[item.attempts - 1]
    return delay === undefined ? { state: 'ignored', outcome } : { retryInMs: delay, outcome }
  }

  #idle (): Promise<void> {
    let due: number | null = null
    try {
      due = this.#d.inbox.nextDueAt()
    } catch {
      // busy or closing
    }
    const delay = due === null ? this.#d.pollMs : Math.min(this.#d.pollMs, Math.max(5, due - this.#d.now() + 1))
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        this.#wakers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, delay)
      timer.unref()
      this.#wakers.add(wake)
    })
  }

  #maintain (): void {
    const now = this.#d.now()
    if (now - this.#lastPurge < 3_600_000) return
    this.#lastPurge = now
    const purged = this.#d.inbox.purgeBefore(now - RETENTION_MS)
    if (purged > 0) this.#d.logger.info({ purged }, 'webhooks: old events deleted')
  }
}
