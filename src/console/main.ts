/**
 * Start the fleet console: `node bin/clt-v8-console.js [--root DIR] [--fleet FILE] [--config FILE] [--host H] [--port P]
 * [--log-target files|stdout]`. Owns process concerns (signals, ready, exit); its settings are tenants/console.env
 * (config/console.ts), created with a new admin key on first use. The file is read once, and again on SIGHUP (as a
 * tenant's is), which npm run console:key -- --rotate sends: a rotated admin key applies without a restart.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import closeWithGrace from 'close-with-grace'
import { ConsoleSettings, ensureConsoleConfig, parseConsoleConfig, type ConsoleConfig } from '../config/console.js'
import { CODE_DIR } from '../config/paths.js'
import { trustProxyWarning } from '../config/schema.js'
import { createLogger } from '../log/logger.js'
import { pm2Home } from '../cli/pm2.js'
import { buildConsoleApp } from './app.js'
import { FileFleet, LocalFleet, type FleetSource } from './fleet.js'
import { Pm2Rpc } from './pm2-rpc.js'

/** Below the PM2 entry's kill_timeout; open event streams are cut at once (the page reconnects). */
const CONSOLE_SHUTDOWN_GRACE_MS = 4000

export interface ConsoleArgs {
  root: string
  fleet?: string
  configFile?: string
  host?: string
  port?: number
  logTarget: 'files' | 'stdout'
}

export function parseConsoleArgs (argv: string[]): ConsoleArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      root: { type: 'string' },
      fleet: { type: 'string' },
      config: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'log-target': { type: 'string' },
    },
  })
  const logTarget = values['log-target'] ?? 'files'
  if (logTarget !== 'files' && logTarget !== 'stdout') throw new Error(`--log-target "${logTarget}" must be files or stdout`)
  let port: number | undefined
  if (values.port !== undefined) {
    port = Number(values.port)
    if (!/^\d+$/.test(values.port) || port < 1024 || port > 65535) throw new Error(`--port "${values.port}" is not a number between 1024 and 65535`)
  }
  return {
    root: values.root ?? CODE_DIR,
    logTarget,
    ...(values.fleet !== undefined ? { fleet: values.fleet } : {}),
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(port !== undefined ? { port } : {}),
  }
}

export async function run (argv: string[]): Promise<void> {
  process.umask(0o077)
  let args: ConsoleArgs
  let settings: ConsoleSettings
  let fleet: FleetSource
  let created = false
  let pm2: Pm2Rpc | undefined
  try {
    args = parseConsoleArgs(argv)
    let first: ConsoleConfig
    let file: string
    if (args.configFile) {
      file = args.configFile
      first = parseConsoleConfig(fs.readFileSync(file, 'utf8'), file)
    } else {
      ;({ config: first, file, created } = ensureConsoleConfig(args.root))
    }
    settings = new ConsoleSettings(first, file)
    if (args.fleet) {
      fleet = new FileFleet(args.fleet)
    } else {
      const rpc = new Pm2Rpc(pm2Home())
      pm2 = rpc
      fleet = new LocalFleet({ root: args.root, pm2List: () => rpc.list() })
    }
  } catch (err) {
    process.stderr.write(`clt-v8-console: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
    return
  }
  const config = (): ConsoleConfig => settings.get()
  const initial = config()
  const log = await createLogger({
    level: initial.LOG_LEVEL,
    target: args.logTarget,
    logsDir: path.join(args.root, 'logs'),
    name: 'console',
    secrets: () => [config().ADMIN_KEY],
    base: { service: 'clt-v8-console', pid: process.pid },
  })
  const logger = log.logger
  if (created) logger.warn('console: created tenants/console.env with a new admin key (not shown here): run npm run console:key -- --rotate to get one')
  const hops = trustProxyWarning(initial.TRUST_PROXY)
  if (hops !== undefined) logger.warn(`config: ${hops}`)
  const app = await buildConsoleApp({ config, fleet, logger })
  // SIGHUP means "re-read your settings file" (console:key --rotate sends it), as for a tenant, not "stop".
  const shutdown = closeWithGrace({ delay: CONSOLE_SHUTDOWN_GRACE_MS, skip: ['SIGHUP'] }, async ({ signal, err }) => {
    if (err) logger.fatal({ err }, 'uncaught error; shutting down')
    else logger.info({ signal }, 'shutting down')
    await app.close()
    pm2?.close()
    await log.close()
  })
  process.on('SIGHUP', () => {
    try {
      const { changed, atStartOnly } = settings.reload()
      logger.info({ changed, ...(atStartOnly.length ? { atStartOnly } : {}) }, changed.length ? 'config: re-read on SIGHUP' : 'config: re-read on SIGHUP, nothing changed')
    } catch (err) {
      logger.error({ err }, 'config: re-read on SIGHUP refused; the settings in force stay')
    }
  })
  process.on('message', (msg) => {
    if (msg === 'shutdown') shutdown.close()
  })
  const host = args.host ?? initial.HOST
  const port = args.port ?? initial.PORT
  try {
    await app.listen({ host, port })
  } catch (err) {
    logger.fatal({ err }, `cannot listen on ${host}:${port}`)
    process.stderr.write(`clt-v8-console: cannot listen on ${host}:${port}: ${(err as Error).message}\n`)
    process.exitCode = 1
    shutdown.uninstall()
    await app.close()
    pm2?.close()
    await log.close()
    return
  }
  logger.info({ host, port }, 'console listening')
  process.send?.('ready')
}
