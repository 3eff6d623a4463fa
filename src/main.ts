/** Start one tenant: `node bin/clt-v8-api.js --port 6000 [--root DIR] [--log-target stdout] [--host 0.0.0.0]`. Owns process concerns: signals, ready, exit. */
import module from 'node:module'
import { parseArgs } from 'node:util'
import closeWithGrace from 'close-with-grace'
import { ConfigError } from './config/errors.js'
import { SHUTDOWN_GRACE_MS } from './config/lifecycle.js'
import { removeStaleTempFiles } from './config/env-file.js'
import { loadTenantConfig } from './config/load.js'
import { CODE_DIR, tenantPaths } from './config/paths.js'
import { runtimeProblem } from './config/runtime.js'
import { ConfigStore } from './config/store.js'
import { tenantsDirProblem } from './config/tenants-dir.js'
import { openDatabase } from './db/database.js'
import { createLogger } from './log/logger.js'
import { createTenant } from './tenant.js'

/** Process-level choices that override the tenant's file: where it runs decides them (a container logs to stdout, listens on 0.0.0.0). */
export interface ProcessOverrides {
  logTarget?: 'files' | 'stdout'
  host?: string
}

export function parsePortArg (argv: string[], envPort: string | undefined): { port: number; root: string } & ProcessOverrides {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, root: { type: 'string' }, 'log-target': { type: 'string' }, host: { type: 'string' } },
    strict: true,
  })
  const rawPort = values.port ?? envPort
  if (rawPort === undefined) throw new ConfigError('no port given: use --port <PORT> (or PORT=<PORT>)', '')
  const port = Number(rawPort)
  if (!/^\d+$/.test(rawPort) || port < 1024 || port > 65535) throw new ConfigError(`port "${rawPort}" is not a number between 1024 and 65535`, '')
  const logTarget = values['log-target']
  if (logTarget !== undefined && logTarget !== 'files' && logTarget !== 'stdout') {
    throw new ConfigError(`--log-target "${logTarget}" must be files or stdout`, '')
  }
  const host = values.host?.trim()
  if (host === '') throw new ConfigError('--host needs an address, e.g. --host 0.0.0.0', '')
  return { port, root: values.root ?? CODE_DIR, ...(logTarget ? { logTarget } : {}), ...(host ? { host } : {}) }
}

export async function run (argv: string[]): Promise<void> {
  // A native addon built for the pinned Node fails obscurely on another; say so plainly instead.
  const wrongRuntime = runtimeProblem()
  if (wrongRuntime !== undefined) return failNow(wrongRuntime)
  // Everything this process creates (database, WAL, logs, config temp files) is the owner's alone from its first byte.
  process.umask(0o077)
  let port: number
  let root: string
  let store: ConfigStore
  let warnings: string[]
  let overrides: ProcessOverrides
  try {
    // PORT is the only value taken from the environment: it names the tenant, it is not one of its settings.
    ;({ port, root, ...overrides } = parsePortArg(argv, process.env['PORT']))
    const problem = tenantsDirProblem(tenantPaths(root, port))
    if (problem !== undefined) throw new ConfigError(problem, tenantPaths(root, port).tenantsDir)
    const loaded = loadTenantConfig(root, port)
    store = new ConfigStore(loaded.config, loaded.file)
    warnings = loaded.warnings
  } catch (err) {
    return failNow(err instanceof Error ? err.message : String(err))
  }
  try {
    await start(store, root, port, warnings, overrides)
  } catch (err) {
    // Anything failing before the logger and signal handlers are up still leaves one clear line.
    failNow(`port ${port}: cannot start: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/**
 * Say why on stderr and exit non-zero now. Under PM2 (cluster mode) the IPC channel to the daemon would keep a
 * process that gave up alive and "online" with nothing listening; exiting makes PM2 restart it a few times, then
 * mark it errored, and `tenant:list` shows this line (logs/pm2-<PORT>.log).
 */
function failNow (message: string): void {
  process.exitCode = 1
  process.stderr.write(`clt-v8: ${message}\n`, () => process.exit(1))
  setTimeout(() => process.exit(1), 2000).unref()
}

async function start (store: ConfigStore, root: string, port: number, warnings: string[], overrides: ProcessOverrides): Promise<void> {
  const config = store.get()
  const paths = tenantPaths(root, port)
  const underPm2 = process.env['pm_id'] !== undefined
  const logTarget = overrides.logTarget ?? config.LOG_TARGET
  const host = overrides.host ?? config.HOST
  const log = await createLogger({
    level: config.LOG_LEVEL,
    target: logTarget,
    logsDir: paths.logsDir,
    name: String(port),
    secrets: () => store.secrets(),
    pretty: logTarget === 'files' && process.stdout.isTTY === true && !underPm2,
    rotateBytes: config.LOG_MAX_FILE_MB * 1024 * 1024,
    keepFiles: config.LOG_KEEP_FILES,
    base: { port, tenant: config.TENANT_NAME, pid: process.pid },
  })
  const logger = log.logger
  for (const w of warnings) logger.warn({ file: paths.configFile }, `config: ${w}`)
  // A save killed mid-write (kill -9) leaves a temp copy holding every secret of the file.
  const stale = removeStaleTempFiles(paths.configFile)
  if (stale.length > 0) logger.warn({ removed: stale.length }, 'config: removed temp files left by an interrupted save')

  const tenant = await createTenant({ config: store, db: openDatabase(paths.dbFile), logger, logStats: () => log.stats() })
  const { app } = tenant

  // SIGHUP means "re-read your config file" (tenant:key --rotate sends it), as for most daemons, not "stop".
  const shutdown = closeWithGrace({ delay: SHUTDOWN_GRACE_MS, skip: ['SIGHUP'] }, async ({ signal, err }) => {
    if (err) logger.fatal({ err }, 'uncaught error; shutting down')
    else logger.info({ signal }, 'shutting down')
    await tenant.close() // the order lives in the composition root (src/tenant.ts)
    logger.info('stopped')
    await log.close()
  })
  process.on('SIGHUP', () => {
    try {
      const changed = store.reload()
      logger.info({ changed }, changed.length ? 'config: re-read on SIGHUP' : 'config: re-read on SIGHUP, nothing changed')
    } catch (err) {
      logger.error({ err }, 'config: re-read on SIGHUP refused; the config in force stays')
    }
  })
  // PM2 asks a process to stop with a message where signals are unreliable (e.g. Windows, some reloads).
  process.on('message', (msg) => {
    if (msg === 'shutdown') shutdown.close()
  })

  try {
    await app.listen({ port, host })
  } catch (err) {
    logger.fatal({ err }, `cannot listen on ${host}:${port}`)
    shutdown.uninstall()
    await tenant.close()
    await log.close()
    failNow(`port ${port}: cannot listen on ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`)
    return
  }
  logger.info({ host, port }, 'listening')
  process.send?.('ready')
  // What this start compiled is kept for the next one now, not at exit (a tenant under PM2 rarely exits cleanly).
  module.flushCompileCache?.()
}
