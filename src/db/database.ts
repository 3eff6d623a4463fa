/** The tenant's SQLite file: WAL, busy timeout, a 2 MB page cache, and migrations by PRAGMA user_version (one transaction each). */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS } from './migrations.js'

export type Db = Database.Database

/**
 * SQLite's page cache per connection, in KiB. better-sqlite3 builds SQLite with 16 MB (SQLITE_DEFAULT_CACHE_SIZE=-16000),
 * which a tenant filled with the pages its batches write (each item's results, rarely read again): 11 MB of native
 * memory after a 2,000-CPF batch, growing with every item up to 16 MB. SQLite's own default of 2 MB keeps the pages
 * in use (the queue's indexes and head); the kernel's cache still serves the rest of the file.
 */
export const PAGE_CACHE_KIB = 2000

export interface OpenDbOptions {
  /** Milliseconds a writer waits for another process's lock (two processes overlap during a reload). */
  busyTimeoutMs?: number
}

/** Open (creating if needed) and migrate a tenant database. `:memory:` works for tests. */
export function openDatabase (file: string, opts: OpenDbOptions = {}): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true })
  const db = new Database(file)
  try {
    if (file !== ':memory:') fs.chmodSync(file, 0o600)
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`)
    migrate(db)
  } catch (err) {
    db.close()
    throw err
  }
  return db
}

/** Apply every migration above the file's user_version; each runs in one IMMEDIATE transaction. */
export function migrate (db: Db): number {
  for (let i = 0; i < MIGRATIONS.length; i++) {
    const version = i + 1
    // IMMEDIATE takes the write lock first, so a second process re-reads user_version after waiting.
    db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number
      if (current >= version) return
      db.exec(MIGRATIONS[i]!)
      db.pragma(`user_version = ${version}`)
    }).immediate()
  }
  return db.pragma('user_version', { simple: true }) as number
}

/** Cheap liveness probe for /health: the statement is prepared once; false once the database is unusable. */
export function databaseProbe (db: Db): () => boolean {
  let ping: { get(): unknown } | undefined
  return () => {
    try {
      ping ??= db.prepare('SELECT 1 AS ok')
      return ping.get() !== undefined
    } catch {
      return false
    }
  }
}
