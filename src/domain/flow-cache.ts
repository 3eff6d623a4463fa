/** The flow's narrow view of `simulation_cache` (one row per CPF, TTL): save the approved simulation, read it back. */
import type { Db } from '../db/database.js'

export interface CachedSimulation {
  cpf: string
  consultId: string
  dadosSimulacao: Record<string, unknown>
  dadosCliente: Record<string, unknown> | null
  expiresAt: number
}

/** What the flow needs from the simulation cache; the cache routes' own module may stand behind it. */
export interface SimulationCachePort {
  save(entry: { cpf: string; consultId: string; dadosSimulacao: Record<string, unknown>; dadosCliente?: Record<string, unknown> | null }): void
  get(cpf: string): CachedSimulation | undefined
}

export class FlowSimulationCache implements SimulationCachePort {
  readonly #put
  readonly #get

  constructor(
    db: Db,
    private readonly ttlMs: () => number,
    private readonly now: () => number,
  ) {
    this.#put = db.prepare<[string, string, string, string | null, number, number]>(
      `INSERT INTO simulation_cache (cpf, consult_id, dados_simulacao, dados_cliente, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (cpf) DO UPDATE SET consult_id = excluded.consult_id, dados_simulacao = excluded.dados_simulacao,
         dados_cliente = excluded.dados_cliente, created_at = excluded.created_at, expires_at = excluded.expires_at`,
    )
    this.#get = db.prepare<[string, number], { cpf: string; consult_id: string; dados_simulacao: string; dados_cliente: string | null; expires_at: number }>(
      'SELECT cpf, consult_id, dados_simulacao, dados_cliente, expires_at FROM simulation_cache WHERE cpf = ? AND expires_at > ?',
    )
  }

  save(entry: { cpf: string; consultId: string; dadosSimulacao: Record<string, unknown>; dadosCliente?: Record<string, unknown> | null }): void {
    const at = this.now()
    this.#put.run(entry.cpf, entry.consultId, JSON.stringify(entry.dadosSimulacao), entry.dadosCliente ? JSON.stringify(entry.dadosCliente) : null, at, at + this.ttlMs())
  }

  get(cpf: string): CachedSimulation | undefined {
    const row = this.#get.get(cpf, this.now())
    if (!row) return undefined
    return { cpf: row.cpf, consultId: row.consult_id, dadosSimulacao: objectOf(row.dados_simulacao) ?? {}, dadosCliente: objectOf(row.dados_cliente), expiresAt: row.expires_at }
  }
}

function objectOf(text: string | null): Record<string, unknown> | null {
  if (text === null) return null
  try {
    const v: unknown = JSON.parse(text)
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}
