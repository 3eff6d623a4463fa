/**
 * `tenant restore <PORT> <FILE> [--force]`: put a tenant:backup file back — verified first, database and config each
 * swapped in by rename, the files they replace kept aside. Refuses while the tenant runs unless --force, which stops
 * it under PM2, restores, and starts it again.
 */
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { fsyncDir } from '../../config/durable.js'
import { writeFileAtomic } from '../../config/env-file.js'
import { tenantPaths } from '../../config/paths.js'
import { extractDatabase, readBackup } from '../backup-file.js'
import { appName, ECOSYSTEM_FILE, writeEcosystem } from '../ecosystem.js'
import { CliError } from '../errors.js'
import { probeHealth, reachHost } from '../net.js'
import { pm2, pm2List } from '../pm2.js'
import { readTenants } from '../tenants.js'
import { defineCommand } from './command.js'
import { portArgument } from './port.js'

export const restoreCommand = defineCommand({
  name: 'restore',
  usage: 'restore <PORT> <FILE> [-- --force]   (a tenant:backup file; --force stops a running tenant first)',
  options: { force: { type: 'boolean', default: false } },
  async run ({ root, codeDir, out }, values, positionals) {
    const port = portArgument(positionals, 'restore', ' tenants/data-6000-….backup.sqlite')
    const file = positionals[1]
    if (file === undefined) throw new CliError(`tenant:restore needs the backup file, e.g. npm run tenant:restore ${port} tenants/data-${port}-….backup.sqlite`)
    const backup = readBackup(path.resolve(file), port)
    const paths = tenantPaths(root, port)
    fs.mkdirSync(paths.tenantsDir, { recursive: true })

    // Never swap files under a running process: it holds the database open and would keep writing the old one.
    const current = readTenants(root).find((t) => t.port === port)
    const host = reachHost(current?.loaded?.config.HOST)
    const proc = (await pm2List()).find((p) => p.name === appName(port) && p.status === 'online')
    const answering = (await probeHealth(port, 800, host)).reachable
    if ((proc || answering) && !values.force) {
      throw new CliError(`tenant ${port} is running; stop it first (npx pm2 stop ${appName(port)}) or pass --force (stops it, restores, starts it again)`)
    }
    if (answering && !proc) throw new CliError(`tenant ${port} answers but is not under this PM2; stop that process first`)
    if (proc) {
      await pm2(['stop', proc.name])
      out(`Stopped ${proc.name}.`)
    }

    const stamp = new Date().toISOString().replace(/[:.]/g, '-')
    const tmp = path.join(paths.tenantsDir, `.data-${port}.sqlite.restore-tmp`)
    await extractDatabase(path.resolve(file), tmp)
    let keptDb: string | undefined
    if (fs.existsSync(paths.dbFile)) {
      // Fold a write-ahead log left by a killed process into the file, so the copy kept aside is complete.
      const db = new Database(paths.dbFile)
      db.pragma('wal_checkpoint(TRUNCATE)')
      db.close()
      keptDb = `${paths.dbFile}.before-restore-${stamp}`
      fs.renameSync(paths.dbFile, keptDb)
    }
    for (const f of [`${paths.dbFile}-wal`, `${paths.dbFile}-shm`]) fs.rmSync(f, { force: true })
    fs.renameSync(tmp, paths.dbFile)
    fsyncDir(paths.tenantsDir)
    // The config: rewritten atomically; the one it replaces is kept as a timestamped .bak- copy.
    writeFileAtomic(paths.configFile, backup.configText)
    writeEcosystem(root, codeDir)
    out(`Restored port ${port} from ${file} (made ${backup.createdAt}, schema ${backup.schemaVersion}): database and config file.`)
    if (keptDb) out(`  the database it replaced is kept as ${keptDb}; the config it replaced as a timestamped .bak- copy`)

    if (proc) {
      await pm2(['startOrReload', ECOSYSTEM_FILE, '--only', proc.name], { cwd: root })
      const deadline = Date.now() + 20_000
      while ((await probeHealth(port, 1000, host)).status !== 'OK') {
        if (Date.now() > deadline) throw new CliError(`restored, but tenant ${port} did not come back healthy; see npm run tenant:check ${port}`)
        await sleep(200)
      }
      out(`Started ${proc.name} again: health OK.`)
    }
    return 0
  },
})
