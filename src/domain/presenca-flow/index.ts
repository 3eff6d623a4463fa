/**
 * The PresençaBank flow (a FlowRunner), as the product document lists it:
 *   1. who the term is for (request → CRM → V8; never invented);  2. the CPF's consult term (reused, or created once);
 *   3. sign it as its page does;  4. wait (bounded) until PresençaBank accepts it and lists the employment links;
 *   5. read the eligible links' margin and judge: eligible with margin, without margin, not eligible, no links.
 * Every step records the CPF's state, so calling again resumes (no second term) and the status route shows it.
 * Calls are paced (PRESENCABANK_MAX_RPM): a slot further away than the run can wait is a pending `aguardando_limite`.
 */
import { UpstreamError } from '../../upstream/errors.js'
import { PacingWait } from '../../upstream/presenca.js'
import { OnePerCpf, startRun } from '../flow/run-base.js'
import type { FlowInput, FlowRunner, RunOptions } from '../flow/types.js'
import { Done, pending, type PresencaFlowDeps, type Run } from './run.js'
import { identify } from './steps-person.js'
import { awaitLinks, judgeLinks } from './steps-links.js'
import { openTerm, signTerm } from './steps-term.js'
import { PRESENCA_VERDICTS, type PresencaOutcome, type PresencaResult } from './types.js'

export type { PresencaFlowDeps }

/** Links polling: PresençaBank takes seconds to accept a signed term. */
const POLL = { firstMs: 3_000, factor: 1.5, maxMs: 8_000 }

export class PresencaFlow implements FlowRunner<PresencaResult> {
  readonly #d: PresencaFlowDeps
  readonly #perCpf = new OnePerCpf()

  constructor (deps: PresencaFlowDeps) {
    this.#d = deps
  }

  /** The CPF's previous record is read when its turn comes, so a second call resumes what the first left. */
  async run (input: FlowInput, opts: RunOptions = {}): Promise<PresencaOutcome> {
    if (!this.#d.presenca.configured) {
      throw new UpstreamError('presencabank_nao_configurado', 'O PresençaBank não está configurado nesta porta: defina PRESENCABANK_LOGIN e PRESENCABANK_PASSWORD em /config-v8.', 409, 'PresençaBank')
    }
    return this.#perCpf.run(input.cpf, () => this.#run(this.#start(input, opts)))
  }

  async #run (run: Run): Promise<PresencaOutcome> {
    const held = this.#recent(run)
    if (held) return held
    try {
      const identified = await identify(run)
      if (identified instanceof Done) return identified.outcome
      const termed = await openTerm(run, identified)
      if (termed instanceof Done) return termed.outcome
      const signed = await signTerm(run, termed)
      const linked = await awaitLinks(run, signed)
      if (linked instanceof Done) return linked.outcome
      const judged = await judgeLinks(run, linked)
      return judged instanceof Done ? judged.outcome : judged
    } catch (err) {
      // The next pacing slot is further away than this run can wait: nothing was sent; call again after it.
      if (err instanceof PacingWait) return pending(run, run.known, 'aguardando_limite', Math.ceil(err.waitMs)).outcome
      throw err
    }
  }

  /** A final verdict recorded within CACHE_TTL_HOURS is answered again without asking PresençaBank (as the older system did). */
  #recent (run: Run): PresencaOutcome | undefined {
    const p = run.previous
    if (!p || run.now() - p.updatedAt > run.config.CACHE_TTL_HOURS * 3_600_000) return undefined
    if (p.status === 'SUCCESS') return { kind: 'success', etapa: p.etapa, resultado: p.resultado }
    if (p.status === 'FAILED' && p.code !== null && PRESENCA_VERDICTS.has(p.code) && p.code !== 'virada_de_folha') {
      return { kind: 'failed', etapa: p.etapa, code: p.code, erro: p.erro ?? '', resultado: p.resultado, ...(p.details ? { details: p.details } : {}) }
    }
    return undefined
  }

  #start (input: FlowInput, opts: RunOptions): Run {
    const base = startRun(this.#d, input, opts, this.#d.store.result(input.cpf), POLL)
    return { ...base, pacingGraceMs: this.#d.pacingGraceMs ?? 5_000, known: {} }
  }
}
