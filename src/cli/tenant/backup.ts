/** `tenant backup <PORT> [--out FILE]`: a consistent copy of the tenant's SQLite file while it runs (SQLite's online backup). */
import fs from 'node:fs'
import Database from 'better-sqlite3'
import { tenantPaths } from '../../config/paths.js'
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
    if (!fs.existsSync(paths.dbFile)) throw new CliError(`no database for port ${p} (${paths.dbFile})`)
    const target = values.out ?? `${paths.dbFile.replace(/\.sqlite$/, '')}-${new Date().toISOString().replace(/[:.]/g, '-')}.backup.sqlite`
    // The copy holds the V8 token and CPFs: it is created 0600 before the first byte is written (and SQLite's
    // own journal beside it inherits the 0077 umask); an existing file is never overwritten.
    const umask = process.umask(0o077)
    try {
      try {
        fs.closeSync(fs.openSync(target, 'wx', 0o600))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${target} already exists; not overwriting it (choose another --out)`)
        throw err
      }
      // SQLite's online backup: consistent while the tenant keeps running.
      const db = new Database(paths.dbFile, { readonly: true, fileMustExist: true })
      try {
        await db.backup(target)
      } catch (err) {
        fs.rmSync(target, { force: true })
        throw err
      } finally {
        db.close()
      }
    } finally {
      process.umask(umask)
    }
    out(`Backed up ${paths.dbFile} → ${target}`)
    return 0
  },
})
