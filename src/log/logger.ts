/** The tenant's pino logger: rotated, bounded files (info+ / error+) under PM2, JSON on stdout in containers, pretty on a TTY. */
import fs from 'node:fs'
import path from 'node:path'
import { pino, type Logger, type StreamEntry, type DestinationStream } from 'pino'
import { maskCpfsInText, secretScrubber } from './mask.js'
import { REDACTED, SECRET_FIELDS, redactFields } from './redact.js'
import { BoundedLines, type LineStats } from './bounded-lines.js'
import { RotatingFile } from './rotating-file.js'

export type { Logger }

export interface LoggerOptions {
  level: string
  target: 'files' | 'stdout' | 'silent'
  /** Required for target 'files': where out-<name>.log and error-<name>.log go. */
  logsDir?: string
  /** File stem suffix, normally the port. */
  name?: string
  /** Current secret values; any of them found in a line is replaced (belt and braces over the field redaction). */
  secrets?: () => readonly string[]
  /** Pretty-print to the terminal as well (foreground run on a terminal). */
  pretty?: boolean
  base?: Record<string, unknown>
  /** Rotation: bytes per file (default 20 MB) and how many old files to keep (default 14). */
  rotateBytes?: number
  keepFiles?: number
  /** Bytes of lines waiting for the disk (or stdout) before lines are dropped and counted (default 2 MB). */
  bufferBytes?: number
  /** How often a "N log lines dropped" line is written when lines were dropped (default 10 s). */
  dropReportMs?: number
}

export const LOG_FILE_MODE = 0o600
export const LOG_DIR_MODE = 0o700
const MB = 1024 * 1024

/** Lines accepted, dropped (buffer full) and rotations, per destination: what a metrics layer reads. */
export type LogStats = Record<string, LineStats>

export interface TenantLogger {
  logger: Logger
  /** Report drops, flush buffered lines and close the files (call last on shutdown). */
  close(): Promise<void>
  flushSync(): void
  stats(): LogStats
}

interface Destination {
  write(line: string): boolean
  reportDrops(): void
  stats(): LineStats
  flushSync(): void
  close(): Promise<void>
}

export async function createLogger (opts: LoggerOptions): Promise<TenantLogger> {
  const streams: StreamEntry[] = []
  const destinations = new Map<string, Destination>()
  const bufferBytes = opts.bufferBytes ?? 2 * MB
  if (opts.target === 'files') {
    if (!opts.logsDir || !opts.name) throw new Error('file logging needs logsDir and name')
    // Each tenant rotates inside its own folder (logs/<name>/out.log, out-<time>.log …);
    // logs/out-<name>.log links to the current file.
    const rotateDir = path.join(opts.logsDir, opts.name)
    prepareDir(opts.logsDir)
    prepareDir(rotateDir)
    for (const [kind, level] of [['out', 'info'], ['error', 'error']] as const) {
      const file = new RotatingFile({
        dir: rotateDir,
        name: kind,
        maxBytes: opts.rotateBytes ?? 20 * MB,
        keep: opts.keepFiles ?? 14,
        bufferBytes,
        fileMode: LOG_FILE_MODE,
        ...(opts.base ? { base: opts.base } : {}),
      })
      pointLinkAt(path.join(opts.logsDir, `${kind}-${opts.name}.log`), path.relative(opts.logsDir, file.file))
      streams.push({ level: level as 'info', stream: file })
      destinations.set(kind, file)
    }
  } else if (opts.target === 'stdout') {
    const out = new BoundedStdout(bufferBytes, opts.base ?? {})
    streams.push({ level: 'trace' as const, stream: out })
    destinations.set('stdout', out)
  }
  if (opts.pretty) {
    // Loaded only for a foreground run on a terminal: PM2 and container starts skip its module graph.
    const { default: pretty } = await import('pino-pretty')
    streams.push({ level: 'trace' as const, stream: pretty({ colorize: true, destination: 2 }) as DestinationStream })
  }

  const scrub = secretScrubber(opts.secrets ?? (() => []))
  const logger = pino(
    {
      level: opts.target === 'silent' ? 'silent' : opts.level,
      base: opts.base ?? {},
      // Secret-named fields at every level of a line's object (redact.ts: a key lookup each, where pino's wildcard
      // paths cost ~11 µs a line); pino's own redact, given top-level names only (nearly free), covers child bindings.
      formatters: { log: redactFields },
      redact: { paths: [...SECRET_FIELDS], censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: (line: string) => maskCpfsInText(scrub(line)) },
    },
    streams.length > 0 ? pino.multistream(streams, { dedupe: false }) : undefined
  )
  const all = [...destinations.values()]
  const reporter = setInterval(() => { for (const d of all) d.reportDrops() }, opts.dropReportMs ?? 10_000)
  reporter.unref()
  const flushSync = (): void => {
    for (const d of all) d.flushSync()
  }
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(reporter)
      await Promise.all(all.map((d) => d.close()))
    })()
    return closing
  }
  const stats = (): LogStats => Object.fromEntries([...destinations].map(([k, d]) => [k, d.stats()]))
  return { logger, flushSync, close, stats }
}

/** stdout (containers) with the same bound: lines beyond `bufferBytes` waiting for the pipe are dropped and counted. */
class BoundedStdout extends BoundedLines implements Destination {
  readonly #base: Record<string, unknown>

  constructor (bufferBytes: number, base: Record<string, unknown>) {
    super({ fd: 1, sync: false, maxLength: bufferBytes })
    this.#base = base
  }

  write (line: string): boolean {
    return this.offer(line).ok
  }

  reportDrops (): void {
    this.writeDropReport(this.#base, Date.now(), 'stdout')
  }

  async close (): Promise<void> {
    this.reportDrops()
    this.flushSync()
  }
}

/** Create a log folder private to the owner (0700), and tighten one an earlier version left open. */
function prepareDir (dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: LOG_DIR_MODE })
  try {
    fs.chmodSync(dir, LOG_DIR_MODE)
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isFile()) fs.chmodSync(path.join(dir, entry.name), LOG_FILE_MODE)
    }
  } catch {
    // not ours to change (another user's folder): the files we create are still 0600
  }
}

function pointLinkAt (link: string, target: string): void {
  const tmp = `${link}.${process.pid}.tmp`
  try {
    fs.rmSync(tmp, { force: true })
    fs.symlinkSync(target, tmp)
    fs.renameSync(tmp, link)
  } catch {
    // A second process of the same tenant (during a reload) may race us; either link is right.
  }
}
