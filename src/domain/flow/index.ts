/**
 * The CLT flow (FlowRunner), as the product document numbers it:
 *   1. find the CPF's opportunity in the CRM;  2. gather the borrower's data (request → CRM → V8 → tenant default);
 *   3. resume the CPF's V8 consult or create one;  4. authorize it and wait (bounded);
 *   5. judge it: refused, pending, or approved with a margin;  6. simulate (ladder × tables);
 *   7. record the result and write it back to the CRM.
 * Each step is a function of (run, state) in steps-*.ts returning the next state or a Done outcome.
 */
import { Done, RETRY_AFTER_MS, type FlowDeps, type Run } from './run.js'
import { findOpportunity, gatherBorrower } from './steps-borrower.js'
import { openConsult, settleConsult } from './steps-consult.js'
import { finish, judgeConsult, simulate } from './steps-offer.js'
import type { FlowInput, FlowOutcome, FlowRunner } from './types.js'

export { RETRY_AFTER_MS, type FlowDeps }
export { isBirthDateRejection } from './steps-consult.js'

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

export class CltFlow implements FlowRunner {
  readonly #d: FlowDeps
  /** One run per CPF at a time in this process: a second call waits and then resumes what the first left. */
  readonly #running = new Map<string, Promise<unknown>>()

  constructor (deps: FlowDeps) {
    this.#d = deps
  }

  async run (input: FlowInput, opts: { waitMs?: number; signal?: AbortSignal } = {}): Promise<FlowOutcome> {
    const before = this.#running.get(input.cpf) ?? Promise.resolve()
    const mine = before.catch(() => undefined).then(() => this.#run(this.#start(input, opts)))
    const tail = mine.catch(() => undefined)
    this.#running.set(input.cpf, tail)
    try {
      return await mine
    } finally {
      if (this.#running.get(input.cpf) === tail) this.#running.delete(input.cpf)
    }
  }

  async #run (run: Run): Promise<FlowOutcome> {
    const found = await findOpportunity(run)
    if (found instanceof Done) return found.outcome
    const gathered = await gatherBorrower(run, found)
    if (gathered instanceof Done) return gathered.outcome
    const opened = await openConsult(run, gathered)
    if (opened instanceof Done) return opened.outcome
    const settled = await settleConsult(run, opened)
    if (settled instanceof Done) return settled.outcome
    const approved = await judgeConsult(run, settled)
    if (approved instanceof Done) return approved.outcome
    const simulated = await simulate(run, approved)
    if (simulated instanceof Done) return simulated.outcome
    return finish(run, simulated)
  }

  #start (input: FlowInput, opts: { waitMs?: number; signal?: AbortSignal }): Run {
    const d = this.#d
    const config = d.config()
    const now = d.now ?? Date.now
    return {
      deps: d,
      config,
      input,
      signal: opts.signal,
      deadline: now() + Math.max(0, opts.waitMs ?? config.FLOW_WAIT_SECONDS * 1000),
      previous: d.results.get(input.cpf),
      now,
      sleep: d.sleep ?? sleep,
      poll: { firstMs: 400, factor: 1.6, maxMs: 5_000, ...d.poll },
    }
  }
}
