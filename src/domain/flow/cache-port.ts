/** The flow's narrow view of the simulation cache (SimulationCache in simulation-cache.ts implements it). */

export interface CachedSimulation {
  cpf: string
  consultId: string
  dadosSimulacao: Record<string, unknown>
  dadosCliente: Record<string, unknown> | null
  expiresAt: number
}

/** Save the CPF's approved simulation (TTL applied by the cache) and read the unexpired one back. */
export interface SimulationCachePort {
  save(entry: { cpf: string; consultId: string; dadosSimulacao: Record<string, unknown>; dadosCliente?: Record<string, unknown> | null }): unknown
  get(cpf: string): CachedSimulation | undefined
}
