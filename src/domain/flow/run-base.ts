/** What every flow's run shares: the deps each flow takes, the per-call context, how a call starts, one call per CPF. */
import type { TenantConfig } from '../../config/schema.js'
import type { Logger } from '../../log/logger.js'
import { sleep } from '../../upstream/abort.js'
import type { FlowInput, RunOptions } from './types.js'

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

/** Polling while an upstream is not done yet: first interval, growth factor and cap (ms). */
export interface Poll { firstMs: number; factor: number; maxMs: number }

/** The dependencies every flow takes besides its upstreams and its store; the optional ones have defaults. */
export interface RunDeps {
  config: () => TenantConfig
  logger: Logger
  now?: () => number
  sleep?: Sleep
  poll?: Partial<Poll>
}

/** Everything one call of a flow reads: the deps, the config as of the call, the input, the deadline, the last record. */
export interface RunBase<D extends RunDeps, P> {
  deps: D
  config: TenantConfig
  input: FlowInput
  signal: AbortSignal | undefined
  /** Until when to wait for the upstream before answering pending. */
  deadline: number
  previous: P | undefined
  now: () => number
  sleep: Sleep
  poll: Poll
}

/** A call's context: the config read once, the deadline from `waitMs` (else FLOW_WAIT_SECONDS), the flow's poll defaults. */
export function startRun<D extends RunDeps, P> (deps: D, input: FlowInput, opts: RunOptions, previous: P | undefined, poll: Poll): RunBase<D, P> {
  const config = deps.config()
  const now = deps.now ?? Date.now
  return {
    deps,
    config,
    input,
    signal: opts.signal,
    deadline: now() + Math.max(0, opts.waitMs ?? config.FLOW_WAIT_SECONDS * 1000),
    previous,
    now,
    sleep: deps.sleep ?? sleep,
    poll: { ...poll, ...deps.poll },
  }
}

/** One run per CPF at a time in this process: a second call waits, then resumes what the first left. */
export class OnePerCpf {
  readonly #running = new Map<string, Promise<unknown>>()

  async run<T> (cpf: string, work: () => Promise<T>): Promise<T> {
    const before = this.#running.get(cpf) ?? Promise.resolve()
    const mine = before.catch(() => undefined).then(work)
    const tail = mine.catch(() => undefined)
    this.#running.set(cpf, tail)
    try {
      return await mine
    } finally {
      if (this.#running.get(cpf) === tail) this.#running.delete(cpf)
    }
  }
}
