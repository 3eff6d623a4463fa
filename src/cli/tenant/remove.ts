/** `tenant remove <PORT> [--force] [--purge]`: take a tenant out of tenants/, PM2 and the ecosystem; --purge also deletes its data and logs. */
import fs from 'node:fs'
import { tenantPaths } from '../../config/paths.js'
import { appName, writeEcosystem } from '../ecosystem.js'
import { CliError } from '../errors.js'
import { probeHealth } from '../net.js'
import { pm2, pm2List } from '../pm2.js'
import { defineCommand } from './command.js'
import { portArgument } from './port.js'

export const removeCommand = defineCommand({
  name: 'remove',
  usage: 'remove <PORT> [-- --force --purge]',
  options: {
    force: { type: 'boolean', default: false },
    purge: { type: 'boolean', default: false },
  },
  async run ({ root, codeDir, out }, values, positionals) {
    const p = portArgument(positionals, 'remove')
    const paths = tenantPaths(root, p)
    if (!fs.existsSync(paths.configFile)) throw new CliError(`port ${p} is not a tenant (no ${paths.configFile})`)
    const proc = (await pm2List()).find((x) => x.name === appName(p))
    const health = await probeHealth(p, 500)
    const running = (proc !== undefined && proc.status === 'online') || health.reachable
    if (running && !values.force) {
      throw new CliError(`tenant ${p} is running${proc ? ` under PM2 (${proc.name})` : ''}; stop it first or pass --force`)
    }
    if (proc) await pm2(['delete', proc.name])
    for (const f of [paths.configFile, `${paths.configFile}.bak`]) fs.rmSync(f, { force: true })
    if (values.purge) {
      for (const f of [paths.dbFile, `${paths.dbFile}-wal`, `${paths.dbFile}-shm`]) fs.rmSync(f, { force: true })
      for (const f of fs.existsSync(paths.logsDir) ? fs.readdirSync(paths.logsDir) : []) {
        if (new RegExp(`^(out|error|pm2)-${p}(\\.|$)`).test(f)) fs.rmSync(`${paths.logsDir}/${f}`, { force: true })
      }
    }
    const eco = writeEcosystem(root, codeDir)
    out(`Removed tenant ${p}${proc ? ' (deleted from PM2)' : ''}.${values.purge ? ' Its database and logs were deleted.' : ` Its data is kept in ${paths.dbFile} (use --purge to delete).`}`)
    out(`Regenerated ${eco.file} (${eco.ports.length} tenant(s)).`)
    return 0
  },
})
