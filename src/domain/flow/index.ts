/**
 * The CLT flow (FlowRunner), as the product document numbers it:
 *   1. find the CPF's opportunity in the CRM;  2. gather the borrower's data (request → CRM → V8 → tenant default);
 *   3. resume the CPF's V8 consult or create one;  4. authorize it and wait (bounded);
 *   5. judge it: refused, pending, or approved with a margin;  6. simulate (ladder × tables);
 *   7. record the result and write it back to the CRM.
 * Each step is a function of (run, state) in steps-*.ts returning the next state or a Done outcome.
 */
import { Done, RETRY_AFTER_MS, type FlowDeps, type Run } from './run.js'
import { OnePerCpf, startRun } from './run-base.js'
import { findOpportunity, gatherBorrower } from './steps-borrower.js'
import { openConsult, settleConsult } from './steps-consult.js'
import { finish, judgeConsult, simulate } from './steps-offer.js'
import type { FlowInput, FlowOutcome, FlowRunner, RunOptions } from './types.js'

export { RETRY_AFTER_MS, type FlowDeps }
export { isBirthDateRejection } from './steps-consult.js'

/** Consult polling: V8 settles most consults within seconds. */
const POLL = { firstMs: 400, factor: 1.6, maxMs: 5_000 }

export class CltFlow implements FlowRunner {
  readonly #d: FlowDeps
  readonly #perCpf = new OnePerCpf()

  constructor (deps: FlowDeps) {
    this.#d = deps
  }

  /** The CPF's previous record is read when its turn comes, so a second call resumes what the first left. */
  async run (input: FlowInput, opts: RunOptions = {}): Promise<FlowOutcome> {
    return this.#perCpf.run(input.cpf, () => this.#run(startRun(this.#d, input, opts, this.#d.results.get(input.cpf), POLL)))
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
}
