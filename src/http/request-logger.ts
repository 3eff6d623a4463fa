/**
 * The logger of each request (fastify's childLoggerFactory), made only when a line needs it.
 *
 * Fastify gives every request a pino child bound to its request id, and a route with its own logLevel a child whose
 * log methods are rebuilt for that level: a cost paid on each of thousands of requests a second, most of which log
 * one line (the request line) or none (a healthy /health probe). This stand-in answers level checks itself and writes
 * a line with a plain object through the parent logger, the request id added to the object (the same line a child
 * writes: redaction, masking and serializers are the parent's). Anything else (a message-only call, an Error first,
 * child(), a lower route level than the parent's, route serializers) makes the real child once and hands over to it.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'fastify/types/logger.js'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type PinoLike = FastifyBaseLogger & { levels: { values: Record<string, number> }; isLevelEnabled(level: string): boolean }

export class RequestLogger {
  readonly #parent: PinoLike
  readonly #bindings: Bindings
  readonly #opts: ChildLoggerOptions
  #child: FastifyBaseLogger | undefined

  constructor (parent: PinoLike, bindings: Bindings, opts: ChildLoggerOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#opts = opts
  }

  #real (): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#opts)
    return this.#child
  }

  /** The parent can write this line for the child: no route serializers, and the parent's level lets it through. */
  #viaParent (level: Level): boolean {
    return this.#child === undefined && this.#opts.serializers === undefined && this.#parent.isLevelEnabled(level)
  }

  get level (): string {
    return this.#child?.level ?? this.#opts.level ?? this.#parent.level
  }

  set level (level: string) {
    this.#real().level = level
  }

  isLevelEnabled (level: string): boolean {
    if (this.#child) return (this.#child as PinoLike).isLevelEnabled(level)
    const values = this.#parent.levels.values
    return (values[level] ?? 0) >= (values[this.level] ?? 0)
  }

  #log (level: Level, args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return
    const [first, ...rest] = args
    if (this.#viaParent(level) && first !== null && typeof first === 'object' && !(first instanceof Error)) {
      (this.#parent[level] as (...a: unknown[]) => void)({ ...this.#bindings, ...first }, ...rest)
      return
    }
    (this.#real()[level] as (...a: unknown[]) => void)(...args)
  }

  fatal (...args: unknown[]): void { this.#log('fatal', args) }
  error (...args: unknown[]): void { this.#log('error', args) }
  warn (...args: unknown[]): void { this.#log('warn', args) }
  info (...args: unknown[]): void { this.#log('info', args) }
  debug (...args: unknown[]): void { this.#log('debug', args) }
  trace (...args: unknown[]): void { this.#log('trace', args) }
  silent (): void {}

  child (bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, opts)
  }
}

/** For Fastify({ childLoggerFactory }). */
export function requestLoggerFactory (this: unknown, logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(logger as PinoLike, bindings, opts) as unknown as FastifyBaseLogger
}
