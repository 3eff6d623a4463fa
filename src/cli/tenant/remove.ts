/**
 * `tenant remove <PORT> [--force] [--purge]`: take a tenant out of tenants/, PM2 and the ecosystem. --purge also
 * deletes everything it left (database, backups in tenants/, logs), and works on a port already removed without it.
 */
import fs from 'node:fs'
import path from 'node:path'
import { tenantPaths } from '../../config/paths.js'
import { appName, writeEcosystem } from '../ecosystem.js'
import { CliError } from '../errors.js'
import { probeHealth } from '../net.js'
import { pm2, pm2List } from '../pm2.js'
import { defineCommand } from './command.js'
import { portArgument } from './port.js'

export interface Leftovers {
  /** The config file and its kept copies (secrets). */
  config: string[]
  /** The database, its journal, copies kept by restore, tenant:backup files in tenants/. */
  data: string[]
  /** Log files and the folder of rotated ones. */
  logs: string[]
}

/** Every file of `port` under root's tenants/ and logs/. */
export function leftovers (root: string, port: number): Leftovers {
  const paths = tenantPaths(root, port)
  const list = (dir: string, re: RegExp): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir) : []).filter((f) => re.test(f)).map((f) => path.join(dir, f))
  return {
    config: list(paths.tenantsDir, new RegExp(`^\\.?config-${port}\\.env($|\\.bak|\\.tmp-)`)),
    data: list(paths.tenantsDir, new RegExp(`^\\.?data-${port}(\\.sqlite|-.*\\.backup\\.sqlite)`)),
    logs: list(paths.logsDir, new RegExp(`^((out|error|pm2)-${port}(\\.|$)|${port}$)`)),
  }
}

export const removeCommand = defineCommand({
  name: 'remove',
  usage: 'remove <PORT> [-- --force --purge]   (--purge: also its data, backups in tenants/ and logs; works after a plain remove too)',
  options: {
    force: { type: 'boolean', default: false },
    purge: { type: 'boolean', default: false },
  },
  async run ({ root, codeDir, out }, values, positionals) {
    const p = portArgument(positionals, 'remove')
    const paths = tenantPaths(root, p)
    const left = leftovers(root, p)
    const isTenant = fs.existsSync(paths.configFile)
    const all = [...left.config, ...left.data, ...left.logs]
    if (!isTenant && !values.purge) {
      if (all.length === 0) throw new CliError(`port ${p} is not a tenant (no ${paths.configFile}) and left nothing here`)
      throw new CliError(`port ${p} is not a tenant any more, but left ${all.length} file(s):\n${all.map((f) => `  ${f}`).join('\n')}\ndelete them with: npm run tenant:remove ${p} -- --purge`)
    }
    const proc = (await pm2List()).find((x) => x.name === appName(p))
    const running = (proc !== undefined && proc.status === 'online') || (await probeHealth(p, 500)).reachable
    if (running && !values.force) {
      throw new CliError(`tenant ${p} is running${proc ? ` under PM2 (${proc.name})` : ''}; stop it first or pass --force`)
    }
    if (proc) await pm2(['delete', proc.name])
    const doomed = values.purge ? all : left.config
    for (const f of doomed) fs.rmSync(f, { recursive: true, force: true })
    const eco = writeEcosystem(root, codeDir)
    if (!isTenant) {
      out(all.length ? `Purged what port ${p} had left: ${summary(left)}.` : `Nothing of port ${p} is left.`)
      return 0
    }
    out(`Removed tenant ${p}${proc ? ' (deleted from PM2)' : ''}.${values.purge ? ` Deleted ${summary(left)}.` : ` Its data and logs are kept (${left.data.length + left.logs.length} file(s); npm run tenant:remove ${p} -- --purge deletes them).`}`)
    if (values.purge) out('  Backups written elsewhere with --out are not touched.')
    out(`Regenerated ${eco.file} (${eco.ports.length} tenant(s)).`)
    return 0
  },
})

function summary (l: Leftovers): string {
  return `${l.config.length} config file(s), ${l.data.length} data file(s), ${l.logs.length} log file(s)/folder(s)`
}
