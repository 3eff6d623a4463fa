/** The tenant's SQLite file: WAL, busy timeout, and migrations by PRAGMA user_version (one transaction each). */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS } from './migrations.js'

export type Db = Database.Database

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
