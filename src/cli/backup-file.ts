/**
 * A tenant backup is one SQLite file: the tenant's database (SQLite's online backup, consistent while it runs) plus
 * a `backup_manifest` table holding its config file and that file's SHA-256. One file to copy away, and SQLite's own
 * integrity check covers both. Read the config back with:
 *   sqlite3 FILE "SELECT value FROM backup_manifest WHERE key = 'config'"
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { parseTenantConfig } from '../config/load.js'
import { MIGRATIONS } from '../db/migrations.js'
import { CliError } from './errors.js'

export const MANIFEST_TABLE = 'backup_manifest'
const FORMAT = 'clt-v8-backup/1'

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

export interface BackupContents {
  port: number
  createdAt: string
  configText: string
  /** The database's schema version (PRAGMA user_version). */
  schemaVersion: number
}

/** Write `target` (0600 from its first byte: it holds the tenant's secrets) from the live database and config file. */
export async function writeBackup (opts: { dbFile: string; configFile: string; port: number; target: string; now?: Date }): Promise<void> {
  const configText = fs.readFileSync(opts.configFile, 'utf8')
  // The copy holds the V8 token, CPFs and the config's secrets: it is created 0600 before the first byte is written
  // (SQLite then writes into it and keeps the mode; its own journal beside it inherits the 0077 umask), and an
  // existing file is never overwritten.
  const umask = process.umask(0o077)
  try {
    fs.closeSync(fs.openSync(opts.target, 'wx', 0o600))
  } catch (err) {
    process.umask(umask)
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${opts.target} already exists; not overwriting it (choose another --out)`)
    throw err
  }
  try {
    const live = new Database(opts.dbFile, { readonly: true, fileMustExist: true })
    try {
      await live.backup(opts.target)
    } finally {
      live.close()
    }
    const copy = new Database(opts.target)
    try {
      copy.exec(`CREATE TABLE ${MANIFEST_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT`)
      const put = copy.prepare(`INSERT INTO ${MANIFEST_TABLE} (key, value) VALUES (?, ?)`)
      copy.transaction(() => {
        put.run('format', FORMAT)
        put.run('port', String(opts.port))
        put.run('created_at', (opts.now ?? new Date()).toISOString())
        put.run('config_file', path.basename(opts.configFile))
        put.run('config', configText)
        put.run('config_sha256', sha256(configText))
      })()
    } finally {
      copy.close()
    }
  } catch (err) {
    fs.rmSync(opts.target, { force: true })
    throw err
  } finally {
    process.umask(umask)
  }
}

/** Read and verify a backup: SQLite integrity, the manifest, the config's checksum, that it loads, and the port. */
export function readBackup (file: string, port: number): BackupContents {
  if (!fs.existsSync(file)) throw new CliError(`${file}: no such backup file`)
  let db: Database.Database
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
  } catch (err) {
    throw new CliError(`${file}: not a readable SQLite file (${(err as Error).message})`)
  }
  try {
    let integrity: string[]
    try {
      integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check)
    } catch (err) {
      throw new CliError(`${file}: not a usable backup (${(err as Error).message})`)
    }
    if (integrity.join() !== 'ok') throw new CliError(`${file}: fails SQLite's integrity check (${integrity.slice(0, 3).join('; ')})`)
    const hasManifest = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(MANIFEST_TABLE)
    if (!hasManifest) throw new CliError(`${file}: has no ${MANIFEST_TABLE} table: not a tenant:backup file (a bare database copy cannot restore the config)`)
    const manifest = new Map((db.prepare(`SELECT key, value FROM ${MANIFEST_TABLE}`).all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]))
    if (manifest.get('format') !== FORMAT) throw new CliError(`${file}: unknown backup format ${manifest.get('format') ?? '(none)'}`)
    const configText = manifest.get('config') ?? ''
    if (sha256(configText) !== manifest.get('config_sha256')) throw new CliError(`${file}: the config file inside does not match its checksum`)
    const backupPort = Number(manifest.get('port'))
    if (backupPort !== port) throw new CliError(`${file}: is a backup of port ${backupPort}, not ${port}`)
    try {
      parseTenantConfig(configText, `${file} (config inside)`, port)
    } catch (err) {
      throw new CliError(`${file}: its config does not load with this version: ${(err as Error).message}`)
    }
    const schemaVersion = db.pragma('user_version', { simple: true }) as number
    if (schemaVersion > MIGRATIONS.length) {
      throw new CliError(`${file}: database schema ${schemaVersion} is newer than this code's ${MIGRATIONS.length}; restore it with the version that made it`)
    }
    return { port, createdAt: manifest.get('created_at') ?? '?', configText, schemaVersion }
  } finally {
    db.close()
  }
}

/**
 * Copy the backup's database (without its manifest) to `tmp`, ready to be renamed over the tenant's file.
 * SQLite's backup API, not a file copy: the result is a clean database whatever journal state the backup was in.
 */
export async function extractDatabase (file: string, tmp: string): Promise<void> {
  fs.rmSync(tmp, { force: true })
  fs.closeSync(fs.openSync(tmp, 'wx', 0o600))
  const src = new Database(file, { readonly: true, fileMustExist: true })
  try {
    await src.backup(tmp)
  } finally {
    src.close()
  }
  const db = new Database(tmp)
  try {
    db.exec(`DROP TABLE ${MANIFEST_TABLE}`)
    db.exec('VACUUM')
  } finally {
    db.close()
  }
}
