/** The tenant's pino logger: rotated files (info+ / error+) under PM2, JSON on stdout in containers, pretty on a TTY. */
import fs from 'node:fs'
import path from 'node:path'
import { pino, type Logger, type StreamEntry, type DestinationStream } from 'pino'
import pinoRoll from 'pino-roll'
import { maskCpfsInText, scrubSecrets } from './mask.js'

export type { Logger }

export interface LoggerOptions {
  level: string
  target: 'files' | 'stdout' | 'silent'
  /** Required for target 'files': where out-<name>.log and error-<name>.log go. */
  logsDir?: string
  /** File stem suffix, normally the port. */
  name?: string
  /** Current secret values; any of them found in a line is replaced (belt and braces over `redact`). */
  secrets?: () => readonly string[]
  /** Pretty-print to the terminal as well (foreground run on a TTY). */
  pretty?: boolean
  base?: Record<string, unknown>
  /** Rotation: size per file and how many old files to keep. */
  rotateSize?: string
  keepFiles?: number
}

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'password',
  'senha',
  'token',
  'access_token',
  'apiKey',
  'api_key',
  'API_KEY',
  'V8_PASSWORD',
  'KENTRO_API_KEY',
  'PRESENCABANK_PASSWORD',
  '*.password',
  '*.senha',
  '*.token',
  '*.access_token',
  '*.apiKey',
  '*.API_KEY',
  '*.V8_PASSWORD',
  '*.KENTRO_API_KEY',
  '*.PRESENCABANK_PASSWORD',
]

export interface TenantLogger {
  logger: Logger
  /** Flush buffered lines to disk and close the files (call last on shutdown). */
  close(): Promise<void>
  flushSync(): void
}

export async function createLogger (opts: LoggerOptions): Promise<TenantLogger> {
  const streams: StreamEntry[] = []
  const closables: Array<{ flushSync(): void; end(): void; once(e: string, f: () => void): unknown }> = []
  if (opts.target === 'files') {
    if (!opts.logsDir || !opts.name) throw new Error('file logging needs logsDir and name')
    // pino-roll numbers its files by scanning the whole folder for trailing numbers, so each tenant
    // rotates inside its own folder (logs/<name>/out.<n>.log); logs/out-<name>.log links to the current file.
    const rotateDir = path.join(opts.logsDir, opts.name)
    fs.mkdirSync(rotateDir, { recursive: true })
    for (const [kind, level] of [['out', 'info'], ['error', 'error']] as const) {
      const stream = await pinoRoll({
        file: path.join(rotateDir, kind),
        extension: '.log',
        frequency: 'daily',
        size: opts.rotateSize ?? '20m',
        limit: { count: opts.keepFiles ?? 14 },
        mkdir: true,
        minLength: 0,
      })
      const link = path.join(opts.logsDir, `${kind}-${opts.name}.log`)
      const relink = (): void => {
        if (typeof stream.file === 'string') pointLinkAt(link, path.relative(opts.logsDir!, stream.file))
      }
      relink()
      stream.on('ready', relink)
      streams.push({ level: level as 'info', stream })
      closables.push(stream)
    }
  } else if (opts.target === 'stdout') {
    streams.push({ level: 'trace' as const, stream: pino.destination({ dest: 1, sync: false }) })
  }
  if (opts.pretty) {
    // Loaded only for a foreground run on a terminal: PM2 and container starts skip its module graph.
    const { default: pretty } = await import('pino-pretty')
    streams.push({ level: 'trace' as const, stream: pretty({ colorize: true, destination: 2 }) as DestinationStream })
  }

  const secrets = opts.secrets ?? (() => [])
  const logger = pino(
    {
      level: opts.target === 'silent' ? 'silent' : opts.level,
      base: opts.base ?? {},
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: (line: string) => maskCpfsInText(scrubSecrets(line, secrets())) },
    },
    streams.length > 0 ? pino.multistream(streams, { dedupe: false }) : undefined
  )
  const flushSync = (): void => {
    for (const s of closables) {
      try {
        s.flushSync()
      } catch {
        // not yet open or already closed: nothing buffered to lose
      }
    }
  }
  const close = async (): Promise<void> => {
    flushSync()
    await Promise.all(closables.map((s) => new Promise<void>((resolve) => {
      s.once('close', resolve)
      s.end()
    })))
  }
  return { logger, flushSync, close }
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
