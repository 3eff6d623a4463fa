/**
 * Contract drift, counted: an upstream answer (or one item of a listing) that did not match the shapes we know.
 * Logged with the route and the JSON path of the problem (never values: they may hold CPFs or names), and
 * counted so /health (and later metrics) can show an operator that an upstream changed before clients complain.
 */
import type { Logger } from '../log/logger.js'
import type { Upstream } from './errors.js'

export interface ShapeProblem {
  /** JSON path inside the answer, e.g. `[3].tags` or `data[0].status`. */
  path: string
  /** What was wrong (a schema message, never the value). */
  problem: string
  /** The item's own id when it has one (an opportunity or consult id), to find it upstream. */
  id?: string | undefined
}

export interface ShapeWarning {
  upstream: Upstream
  route: string
  /** What we did about it: skipped one item, accepted a variant we had not seen, or refused the answer. */
  action: 'item_skipped' | 'variant_accepted' | 'answer_refused'
  problems: readonly ShapeProblem[]
}

/** Injected into every upstream client; one instance per tenant process. */
export class ShapeWarnings {
  #total = 0
  readonly #byRoute = new Map<string, number>()

  constructor (private readonly logger?: Pick<Logger, 'warn'>) {}

  /** Record one event (a listing with five odd items counts five). */
  warn (w: ShapeWarning): void {
    const n = Math.max(1, w.problems.length)
    this.#total += n
    const key = `${w.upstream} ${w.route}`
    this.#byRoute.set(key, (this.#byRoute.get(key) ?? 0) + n)
    // One line per event, with the first few problems: a listing of thousands of odd items stays one line.
    this.logger?.warn({ upstream: w.upstream, route: w.route, action: w.action, count: n, problems: w.problems.slice(0, 5) }, 'upstream answer shape unexpected')
  }

  /** Events since the process started. */
  get total (): number {
    return this.#total
  }

  /** Events per `<upstream> <route>`. */
  byRoute (): Record<string, number> {
    return Object.fromEntries(this.#byRoute)
  }
}
