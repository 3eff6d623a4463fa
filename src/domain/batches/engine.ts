/**
 * Batch workers: claim an item with a lease, run its bank's flow, record the outcome; reschedule pending/transient ones.
 * Over 300 lines on purpose: one loop whose lease, abort and shutdown rules only make sense read together.
 */
import { AppError } from '../../errors.js'
import type { Logger } from '../../log/logger.js'
import { maskCpf } from '../../log/mask.js'
import type { FlowOutcome, FlowRunner } from '../flow/types.js'
import type { BatchEvents } from './events.js'
import { UPSTREAM_RETRY_STEP } from './outcome.js'
import { holdOwner, isDeadOwner, newLeaseOwner } from './owner.js'
import { DEFAULT_RETRY_POLICY, isTransient, pendingDelayMs, transientDelayMs, type RetryPolicy } from './policy.js'
import type { BatchRepository } from './repository.js'
import type { Bank, BatchParams, ClaimedItem, ItemOutcome, ItemResult, ItemRetry } from './types.js'

export interface EngineOptions {
  repo: BatchRepository
  /** The flow of batches without a bank (V8). */
  runner: FlowRunner<ItemResult>
  /** The flow of each other bank a batch may name (`banco`). */
  runners?: Partial<Record<Bank, FlowRunner<ItemResult>>>
  events: BatchEvents
  logger: Logger
  now: () => number
  /** Workers in this process (BATCH_CONCURRENCY). */
  concurrency: number
  /** Lease length; renewed every third of it while an item runs. */
  leaseMs?: number
  /** Longest idle wait between looks for work (creating a batch here wakes the workers at once). */
  pollMs?: number
  /**
   * How long the flow may poll a consult before answering `pending` (the item is then rescheduled): long enough
   * for a consult that answers in a second or two, short enough not to hold a worker on a slow one.
   */
  flowWaitMs?: number
  /** How long `shutdown` lets in-flight items finish before releasing their leases. */
  shutdownBudgetMs?: number
  /** Finished batches older than this are deleted (BATCH_RETENTION_DAYS). */
  retentionMs?: number
  policy?: Partial<RetryPolicy>
  owner?: string
  random?: () => number
}

interface InFlight {
  item: ClaimedItem
  abort: AbortController
  done: Promise<void>
}

const MAINTENANCE_MS = 10_000
const PURGE_EVERY_MS = 60 * 60_000

export class BatchEngine {
  readonly owner: string
  readonly #o: Required<Omit<EngineOptions, 'policy' | 'owner' | 'runners'>>
  readonly #runners: Partial<Record<Bank, FlowRunner<ItemResult>>>
  readonly #policy: RetryPolicy
  readonly #inFlight = new Map<string, InFlight>()
  readonly #params = new Map<string, BatchParams>()
  #workers: Promise<void>[] = []
  #idle: { promise: Promise<void>; wake: () => void } | undefined
  #maintenance: NodeJS.Timeout | undefined
  #lastPurge = 0
  #started = false
  #stopping = false
  #shutdown: Promise<void> | undefined
  #releaseOwner: () => void = () => undefined

  constructor (opts: EngineOptions) {
    this.owner = opts.owner ?? newLeaseOwner()
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...opts.policy }
    this.#runners = opts.runners ?? {}
    this.#o = {
      repo: opts.repo,
      runner: opts.runner,
      events: opts.events,
      logger: opts.logger,
      now: opts.now,
      concurrency: Math.max(1, opts.concurrency),
      leaseMs: opts.leaseMs ?? 30_000,
      pollMs: opts.pollMs ?? 1000,
      flowWaitMs: opts.flowWaitMs ?? 2000,
      shutdownBudgetMs: opts.shutdownBudgetMs ?? 5000,
      retentionMs: opts.retentionMs ?? 30 * 86_400_000,
      random: opts.random ?? Math.random,
    }
  }

  get inFlight (): number {
    return this.#inFlight.size
  }

  /** Reclaim leases of dead processes on this host, purge old batches, start the workers. Idempotent. */
  start (): void {
    if (this.#started || this.#stopping) return
    this.#started = true
    this.#releaseOwner = holdOwner(this.owner)
    this.#maintain()
    this.#maintenance = setInterval(() => this.#maintain(), MAINTENANCE_MS)
    this.#maintenance.unref()
    for (let i = 0; i < this.#o.concurrency; i++) this.#workers.push(this.#work())
  }

  /** Look for work now (a batch was just created or released). */
  wake (): void {
    this.#idle?.wake()
  }

  /**
   * Stop claiming, let in-flight items finish for up to `budgetMs`, then abort the rest and give their leases
   * back (PENDING, due at once) so the next process picks them up without waiting for the leases to expire.
   */
  shutdown (budgetMs = this.#o.shutdownBudgetMs): Promise<void> {
    this.#shutdown ??= this.#stop(budgetMs)
    return this.#shutdown
  }

  async #stop (budgetMs: number): Promise<void> {
    this.#stopping = true
    if (this.#maintenance) clearInterval(this.#maintenance)
    this.wake()
    const pending = [...this.#inFlight.values()].map((f) => f.done)
    if (pending.length > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.allSettled(pending), new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)))])
      clearTimeout(timer)
    }
    const unfinished = this.#inFlight.size
    for (const f of this.#inFlight.values()) f.abort.abort(new AppError('servico_encerrando', 'O serviço está encerrando.', 503))
    try {
      const batches = this.#o.repo.queue.releaseOwner(this.owner, this.#o.now())
      for (const id of batches) this.#o.events.notify(id)
      if (unfinished > 0) this.#o.logger.info({ released: unfinished, batches: batches.length }, 'batch: leases released at shutdown')
    } catch (err) {
      this.#o.logger.error({ err }, 'batch: could not release leases at shutdown (they expire on their own)')
    }
    // Workers whose flow honours the abort end now; any that does not can no longer write (lease released).
    await Promise.race([Promise.allSettled(this.#workers), new Promise((resolve) => setTimeout(resolve, 100).unref())])
    this.#releaseOwner()
  }

  async #work (): Promise<void> {
    while (!this.#stopping) {
      let item: ClaimedItem | undefined
      try {
        item = this.#o.repo.queue.claim(this.owner, this.#o.now(), this.#o.leaseMs)
      } catch (err) {
        if (this.#stopping) return
        this.#o.logger.warn({ err }, 'batch: claim failed; retrying')
      }
      if (!item) {
        await this.#waitForWork()
        continue
      }
      await this.#run(item)
    }
  }

  /** Idle workers share one timer: until the next item is due (or a lease expires), at most `pollMs`. */
  #waitForWork (): Promise<void> {
    if (this.#idle) return this.#idle.promise
    let due: number | null = null
    try {
      due = this.#o.repo.queue.nextDueAt()
    } catch {
      // database busy or closing: look again after the poll interval
    }
    const now = this.#o.now()
    const delay = due === null ? this.#o.pollMs : Math.min(this.#o.pollMs, Math.max(5, due - now + 1))
    let resolve!: () => void
    const promise = new Promise<void>((_resolve) => { resolve = _resolve })
    const timer = setTimeout(() => wake(), delay)
    // With nothing queued anywhere, an idle engine must not keep the process alive on its own.
    if (due === null) timer.unref()
    const wake = (): void => {
      clearTimeout(timer)
      if (this.#idle?.promise === promise) this.#idle = undefined
      resolve()
    }
    this.#idle = { promise, wake }
    return promise
  }

  async #run (item: ClaimedItem): Promise<void> {
    const key = `${item.batchId}:${item.seq}`
    const abort = new AbortController()
    let finish!: () => void
    const done = new Promise<void>((resolve) => (finish = resolve))
    this.#inFlight.set(key, { item, abort, done })
    const renewEvery = Math.max(10, Math.floor(this.#o.leaseMs / 3))
    const renewal = setInterval(() => {
      try {
        if (!this.#o.repo.queue.renew(this.owner, item.batchId, item.seq, this.#o.now() + this.#o.leaseMs)) {
          abort.abort(new AppError('lease_perdido', 'O item foi assumido por outro processo.', 409))
        }
      } catch (err) {
        this.#o.logger.warn({ err }, 'batch: lease renewal failed')
      }
    }, renewEvery)
    const started = this.#o.now()
    try {
      const result = await this.#attempt(item, abort.signal)
      if (abort.signal.aborted) return
      const write = result.kind === 'final' ? this.#o.repo.queue.finish(this.owner, item.batchId, item.seq, result.outcome, this.#o.now()) : this.#o.repo.queue.retry(this.owner, item.batchId, item.seq, result.retry, this.#o.now())
      this.#o.logger[result.kind === 'final' && result.outcome.status === 'FAILED' && result.outcome.erro === 'erro_interno' ? 'error' : 'debug'](
        {
          batch: item.batchId,
          seq: item.seq,
          cpf: maskCpf(item.cpf),
          attempt: item.attempts,
          ms: this.#o.now() - started,
          result: result.kind === 'final' ? result.outcome.status : 'retry',
          step: result.kind === 'final' ? result.outcome.etapa : result.retry.etapa,
          erro: result.kind === 'final' ? result.outcome.erro : result.retry.erro,
          recorded: write.ok,
        },
        'batch: item processed'
      )
      if (write.ok) this.#o.events.notify(item.batchId)
      if (write.batchFinished) {
        this.#params.delete(item.batchId)
        this.#o.logger.info({ batch: item.batchId, counts: this.#o.repo.reads.countItems(item.batchId) }, 'batch: finished')
      }
      if (write.ok && result.kind === 'retry') this.wake()
    } catch (err) {
      if (this.#stopping) {
        // aborted or released at shutdown: the next process resumes the item
      } else if (abort.signal.aborted) {
        this.#o.logger.warn({ batch: item.batchId, seq: item.seq }, 'batch: lease lost to another worker; result dropped')
      } else {
        this.#o.logger.error({ err, batch: item.batchId, seq: item.seq }, 'batch: could not record an item outcome')
      }
    } finally {
      clearInterval(renewal)
      this.#inFlight.delete(key)
      finish()
    }
  }

  /** Run the flow once and decide: a final outcome, or a retry at a later time. */
  async #attempt (item: ClaimedItem, signal: AbortSignal): Promise<{ kind: 'final'; outcome: ItemOutcome } | { kind: 'retry'; retry: ItemRetry }> {
    const p = this.#policy
    if (item.attempts > p.maxAttempts) {
      return { kind: 'final', outcome: failed('tentativas', 'tentativas_esgotadas', `O item foi tentado ${p.maxAttempts} vezes sem concluir.`) }
    }
    const params = this.#paramsOf(item.batchId)
    const runner = params.banco && params.banco !== 'v8' ? this.#runners[params.banco] : this.#o.runner
    if (!runner) return { kind: 'final', outcome: failed('fluxo', 'banco_indisponivel', `O banco ${params.banco ?? ''} não está disponível nesta porta.`) }
    // A spreadsheet row's own valor and prazo come before the batch's.
    const amount = item.input?.amount ?? params.amount
    const installments = item.input?.installments ?? params.installments
    let outcome: FlowOutcome<ItemResult>
    try {
      outcome = await runner.run(
        {
          cpf: item.cpf,
          ...(amount ? { amount } : {}),
          ...(installments !== undefined ? { installments } : {}),
          ...(item.input?.supplied ? { supplied: item.input.supplied } : {}),
          // A batch made from a pipeline finds its CPFs there, whether or not KENTRO_PIPELINE_IDS lists it.
          ...(params.pipeline_id !== undefined ? { pipelines: [params.pipeline_id] } : {}),
        },
        { waitMs: this.#o.flowWaitMs, signal }
      )
    } catch (err) {
      if (signal.aborted) throw err
      if (isTransient(err)) {
        const retries = item.retries + 1
        if (retries > p.maxTransientRetries) {
          return { kind: 'final', outcome: failed('upstream', err.code, `${err.message} (desistência após ${p.maxTransientRetries} tentativas)`) }
        }
        const delay = transientDelayMs(p, retries, err, this.#o.random)
        return { kind: 'retry', retry: { etapa: UPSTREAM_RETRY_STEP, erro: err.code, mensagem: err.message, resultado: null, retries, nextRunAt: this.#o.now() + delay } }
      }
      if (err instanceof AppError) return { kind: 'final', outcome: failed('fluxo', err.code, err.message) }
      this.#o.logger.error({ err, batch: item.batchId, seq: item.seq }, 'batch: the flow threw an unexpected error')
      return { kind: 'final', outcome: failed('fluxo', 'erro_interno', 'Erro interno ao processar o CPF; o problema foi registrado no log do serviço.') }
    }
    switch (outcome.kind) {
      case 'success':
        return { kind: 'final', outcome: { status: 'SUCCESS', etapa: outcome.etapa, erro: null, mensagem: null, resultado: outcome.resultado } }
      case 'failed':
        return { kind: 'final', outcome: { status: 'FAILED', etapa: outcome.etapa, erro: outcome.code, mensagem: outcome.erro, resultado: outcome.resultado } }
      case 'pending': {
        if (this.#o.now() - item.firstRunAt > p.maxPendingMs) {
          const hours = Math.round((p.maxPendingMs / 3_600_000) * 10) / 10
          return { kind: 'final', outcome: { ...failed(outcome.etapa, 'consulta_sem_resposta', `A consulta não terminou em ${hours} h.`), resultado: outcome.resultado } }
        }
        const delay = pendingDelayMs(p, outcome.retryAfterMs, this.#o.random)
        return { kind: 'retry', retry: { etapa: outcome.etapa, erro: null, mensagem: null, resultado: outcome.resultado, retries: 0, nextRunAt: this.#o.now() + delay } }
      }
    }
  }

  #paramsOf (batchId: string): BatchParams {
    let params = this.#params.get(batchId)
    if (!params) {
      params = this.#o.repo.reads.getBatch(batchId)?.params ?? {}
      this.#params.set(batchId, params)
    }
    return params
  }

  /** Reclaim items held by dead processes of this host; purge old batches once an hour. */
  #maintain (): void {
    try {
      let reclaimed = 0
      for (const owner of this.#o.repo.queue.runningOwners()) {
        if (!isDeadOwner(owner, this.owner)) continue
        const batches = this.#o.repo.queue.releaseOwner(owner, this.#o.now())
        reclaimed += batches.length
        for (const id of batches) this.#o.events.notify(id)
      }
      if (reclaimed > 0) {
        this.#o.logger.info({ batches: reclaimed }, 'batch: reclaimed items of a process that is gone')
        this.wake()
      }
      const now = this.#o.now()
      if (now - this.#lastPurge >= PURGE_EVERY_MS) {
        this.#lastPurge = now
        const purged = this.#o.repo.queue.purgeFinishedBefore(now - this.#o.retentionMs)
        if (purged > 0) this.#o.logger.info({ purged }, 'batch: old finished batches deleted')
      }
    } catch (err) {
      if (!this.#stopping) this.#o.logger.warn({ err }, 'batch: maintenance failed')
    }
  }
}

function failed (etapa: string, erro: string, mensagem: string): ItemOutcome {
  return { status: 'FAILED', etapa, erro, mensagem, resultado: null }
}
