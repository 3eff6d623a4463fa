/** `npm run sandbox` (bin/clt-v8-sandbox.js): the simulated upstream on loopback; signals, ready message, JSON logs to stdout. */
import { parseArgs } from 'node:util'
import closeWithGrace from 'close-with-grace'
import { createLogger } from '../log/logger.js'
import { buildSandbox, type SandboxOptions } from './app.js'

export const DEFAULT_PORT = 7070
/** Below the PM2 entry's kill_timeout (5 s). */
export const SHUTDOWN_GRACE_MS = 4000
export const DEFAULT_HOST = '127.0.0.1'

export interface SandboxArgs {
  port: number
  host: string
  logLevel: string
  options: SandboxOptions
}

function intArg (name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) throw new Error(`--${name} must be a whole number between ${min} and ${max} (got "${value}")`)
  return n
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

function logLevel (value: string | undefined): string {
  if (value === undefined) return 'info'
  if (!LEVELS.includes(value)) throw new Error(`--log-level must be one of ${LEVELS.join(', ')}`)
  return value
}

export function parseSandboxArgs (argv: string[]): SandboxArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'token-ttl': { type: 'string' },
      'consult-delay-ms': { type: 'string' },
      'slow-ms': { type: 'string' },
      seed: { type: 'string' },
      'log-level': { type: 'string' },
    },
  })
  return {
    port: intArg('port', values.port, 0, 65535) ?? DEFAULT_PORT,
    host: values.host ?? DEFAULT_HOST,
    logLevel: logLevel(values['log-level']),
    options: {
      tokenTtlSeconds: intArg('token-ttl', values['token-ttl'], 1, 30 * 86_400),
      consultDelayMs: intArg('consult-delay-ms', values['consult-delay-ms'], 0, 600_000),
      slowMs: intArg('slow-ms', values['slow-ms'], 0, 3_600_000),
      seed: intArg('seed', values.seed, 0, 2 ** 32 - 1),
    },
  }
}

export async function run (argv: string[]): Promise<void> {
  let args: SandboxArgs
  try {
    args = parseSandboxArgs(argv)
  } catch (err) {
    process.stderr.write(`clt-v8-sandbox: ${err instanceof Error ? err.message : String(err)}\n`)
    process.stderr.write('usage: clt-v8-sandbox [--port 7070] [--host 127.0.0.1] [--token-ttl S] [--consult-delay-ms MS] [--slow-ms MS] [--seed N] [--log-level info]\n')
    process.exitCode = 1
    return
  }
  const log = await createLogger({ level: args.logLevel, target: 'stdout', base: { app: 'clt-v8-sandbox', pid: process.pid } })
  const logger = log.logger
  const app = await buildSandbox({ ...args.options, logger })

  const shutdown = closeWithGrace({ delay: SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) logger.fatal({ err }, 'uncaught error; shutting down')
    else logger.info({ signal }, 'shutting down')
    await app.close()
    logger.info('stopped')
    log.flushSync()
    await log.close()
  })
  process.on('message', (msg) => {
    if (msg === 'shutdown') shutdown.close()
  })

  try {
    await app.listen({ port: args.port, host: args.host })
  } catch (err) {
    logger.fatal({ err }, `cannot listen on ${args.host}:${args.port}`)
    process.exitCode = 1
    shutdown.uninstall()
    log.flushSync()
    await log.close()
    return
  }
  const address = app.server.address()
  const port = address !== null && typeof address === 'object' ? address.port : args.port
  logger.info({ host: args.host, port, url: `http://${args.host}:${port}`, config: app.sandboxState.config }, 'sandbox listening')
  process.send?.('ready')
}
