/** The tenant's simulation cache (table simulation_cache): one row per normalized CPF, a TTL, expired rows invisible and purged lazily. */
import type { Db } from '../db/database.js'
import { validCpf } from './cpf.js'

export interface SimulationCacheEntry {
  cpf: string
  consultId: string
  dadosSimulacao: Record<string, unknown>
  dadosCliente: Record<string, unknown> | null
  createdAt: number
  expiresAt: number
}

export interface SaveSimulation {
  cpf: string | number
  consultId: string
  dadosSimulacao: Record<string, unknown>
  dadosCliente?: Record<string, unknown> | null | undefined
}

export interface SimulationCacheOptions {
  /** Lifetime of a saved row, read at each save (a config change applies to the next save). */
  ttlMs: () => number
  now?: () => number
  /** Delete expired rows at most this often (they are invisible to reads anyway). */
  purgeEveryMs?: number
}

interface Row {
  cpf: string
  consult_id: string
  dados_simulacao: string
  dados_cliente: string | null
  created_at: number
  expires_at: number
}

const asObject = (text: string | null): Record<string, unknown> | null => {
  if (text === null) return null
  try {
    const v: unknown = JSON.parse(text)
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

const toEntry = (r: Row): SimulationCacheEntry => ({
  cpf: r.cpf,
  consultId: r.consult_id,
  dadosSimulacao: asObject(r.dados_simulacao) ?? {},
  dadosCliente: asObject(r.dados_cliente),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
})

export class SimulationCache {
  readonly #now: () => number
  readonly #ttlMs: () => number
  readonly #purgeEveryMs: number
  #lastPurge = 0
  readonly #upsert
  readonly #get
  readonly #page
  readonly #count
  readonly #delete
  readonly #purge

  constructor (db: Db, opts: SimulationCacheOptions) {
    this.#now = opts.now ?? Date.now
    this.#ttlMs = opts.ttlMs
    this.#purgeEveryMs = opts.purgeEveryMs ?? 10 * 60_000
    this.#upsert = db.prepare<[string, string, string, string | null, number, number]>(
      `INSERT INTO simulation_cache (cpf, consult_id, dados_simulacao, dados_cliente, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (cpf) DO UPDATE SET consult_id = excluded.consult_id, dados_simulacao = excluded.dados_simulacao,
         dados_cliente = excluded.dados_cliente, created_at = excluded.created_at, expires_at = excluded.expires_at`
    )
    this.#get = db.prepare<[string, number], Row>('SELECT * FROM simulation_cache WHERE cpf = ? AND expires_at > ?')
    this.#page = db.prepare<[number, number, number], Row>(
      'SELECT * FROM simulation_cache WHERE expires_at > ? ORDER BY created_at DESC, cpf LIMIT ? OFFSET ?'
    )
    this.#count = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM simulation_cache WHERE expires_at > ?')
    this.#delete = db.prepare<[string, number]>('DELETE FROM simulation_cache WHERE cpf = ? AND expires_at > ?')
    this.#purge = db.prepare<[number]>('DELETE FROM simulation_cache WHERE expires_at <= ?')
  }

  /** Save (or replace) the CPF's simulation; the CPF is normalized and checked (422 `cpf_invalido`). */
  save (entry: SaveSimulation): SimulationCacheEntry {
    const cpf = validCpf(entry.cpf)
    const at = this.#now()
    this.#maybePurge(at)
    const row: Row = {
      cpf,
      consult_id: entry.consultId,
      dados_simulacao: JSON.stringify(entry.dadosSimulacao),
      dados_cliente: entry.dadosCliente ? JSON.stringify(entry.dadosCliente) : null,
      created_at: at,
      expires_at: at + this.#ttlMs(),
    }
    this.#upsert.run(row.cpf, row.consult_id, row.dados_simulacao, row.dados_cliente, row.created_at, row.expires_at)
    return toEntry(row)
  }

  /** The CPF's unexpired simulation, if any. */
  get (rawCpf: string | number): SimulationCacheEntry | undefined {
    const row = this.#get.get(validCpf(rawCpf), this.#now())
    return row ? toEntry(row) : undefined
  }

  /** Unexpired rows, newest first; `page` starts at 1. */
  list (page: number, limit: number): { total: number; items: SimulationCacheEntry[] } {
    const at = this.#now()
    this.#maybePurge(at)
    const total = this.#count.get(at)?.n ?? 0
    const items = this.#page.all(at, limit, (page - 1) * limit).map(toEntry)
    return { total, items }
  }

  /** Remove the CPF's row; false when there was no unexpired row. */
  delete (rawCpf: string | number): boolean {
    return this.#delete.run(validCpf(rawCpf), this.#now()).changes > 0
  }

  /** Delete every expired row now; returns how many went. */
  purgeExpired (): number {
    const at = this.#now()
    this.#lastPurge = at
    return this.#purge.run(at).changes
  }

  #maybePurge (at: number): void {
    if (at - this.#lastPurge >= this.#purgeEveryMs) this.purgeExpired()
  }
}
