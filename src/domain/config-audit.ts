/** The config_audit table: when, from which IP and which keys a config save changed — never the values. */
import type { Db } from '../db/database.js'

export interface ConfigAuditEntry {
  id: number
  at: number
  ip: string
  action: string
  keys: string[]
}

interface Row {
  id: number
  at: number
  ip: string
  action: string
  keys: string
}

export class ConfigAudit {
  readonly #now: () => number
  readonly #insert
  readonly #recent

  constructor (db: Db, now: () => number = Date.now) {
    this.#now = now
    this.#insert = db.prepare<[number, string, string, string]>('INSERT INTO config_audit (at, ip, action, keys) VALUES (?, ?, ?, ?)')
    this.#recent = db.prepare<[number], Row>('SELECT id, at, ip, action, keys FROM config_audit ORDER BY id DESC LIMIT ?')
  }

  /** Record one save: `action` names the form (e.g. `v8`, `integracoes`), `keys` the config keys whose value changed. */
  record (action: string, ip: string, keys: readonly string[]): void {
    this.#insert.run(this.#now(), ip, action, JSON.stringify([...keys]))
  }

  /** The latest entries, newest first. */
  recent (limit = 20): ConfigAuditEntry[] {
    return this.#recent.all(limit).map((r) => ({ id: r.id, at: r.at, ip: r.ip, action: r.action, keys: JSON.parse(r.keys) as string[] }))
  }
}
