/** The contract between the runner and one bench: a name, a time budget, and run(ctx, draft) filling the result. */
import type { BenchResult } from './result.js'

export interface SuiteContext {
  /** A progress line on stdout, prefixed with the bench name. */
  log(message: string): void
  /** A temp folder for this bench, removed afterwards. */
  scratch: string
}

/** The result being filled; written even when run() throws, so what was measured before a failure is kept. */
export type Draft = Pick<BenchResult, 'params' | 'figures' | 'unavailable' | 'notes' | 'raw'>

export interface Suite {
  name: string
  title: string
  /** Hard limit for the whole bench, seconds. */
  budgetS: number
  run(ctx: SuiteContext, draft: Draft): Promise<void>
}
