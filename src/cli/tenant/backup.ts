/** `tenant backup <PORT> [--out FILE]`: the tenant's database and config file in one 0600 file, consistent while it runs. */
import fs from 'node:fs'
import { tenantPaths } from '../../config/paths.js'
import { writeBackup } from '../backup-file.js'
import { CliError } from '../errors.js'
import { defineCommand } from './command.js'
import { portArgument } from './port.js'

export const backupCommand = defineCommand({
  name: 'backup',
  usage: 'backup <PORT> [-- --out FILE]',
  options: { out: { type: 'string' } },
  async run ({ root, out }, values, positionals) {
    const p = portArgument(positionals, 'backup')
    const paths = tenantPaths(root, p)
    if (!fs.existsSync(paths.configFile)) throw new CliError(`port ${p} is not a tenant (no ${paths.configFile})`)
    if (!fs.existsSync(paths.dbFile)) throw new CliError(`no database for port ${p} (${paths.dbFile})`)
    const target = values.out ?? `${paths.dbFile.replace(/\.sqlite$/, '')}-${new Date().toISOString().replace(/[:.]/g, '-')}.backup.sqlite`
    await writeBackup({ dbFile: paths.dbFile, configFile: paths.configFile, port: p, target })
    out(`Backed up ${paths.dbFile} and ${paths.configFile} → ${target} (mode 0600; restore with npm run tenant:restore ${p} ${target})`)
    return 0
  },
})
