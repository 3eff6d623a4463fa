/** Getting a tenant ready for a load target, or saying why it cannot be: seeded cache row, a CPF with an approved consult. */
import { callJson } from '../lib/net.js'
import type { BenchSandbox } from '../lib/sandbox.js'
import { sleep } from '../lib/stats.js'

export type Prepared<T> = ({ ok: true } & T) | { ok: false; reason: string }

/** The route is not registered on this build (the tenant's not-found handler answered, not the route). */
export function routeMissing (res: { status: number; body: unknown }): boolean {
  return res.status === 404 && (res.body as { error?: string } | undefined)?.error === 'rota_nao_encontrada'
}

const brief = (res: { status: number; body: unknown }): string => {
  const b = res.body as { error?: string; message?: string } | undefined
  return `HTTP ${res.status}${b?.error ? ` ${b.error}` : ''}${b?.message ? `: ${b.message}` : ''}`
}

/** A simulation as the flow would store it (a realistic size for the cache row). */
export function sampleSimulation (cpf: string, i = 0): Record<string, unknown> {
  return {
    cpf,
    consultId: `bench-consult-${i}-0000-0000-000000000000`,
    dadosSimulacao: {
      id_simulation: `bench-sim-${i}`,
      number_of_installments: 24,
      installment_value: 312.45,
      disbursed_amount: 5000,
      disbursement_amount: 5000,
      operation_amount: 6120.8,
      interest_rate: 0.0299,
      monthly_interest_rate: 2.99,
      annual_cet: 44.1,
      first_due_date: '2026-03-10',
      provider: 'QI',
    },
    dadosCliente: { nome: `Cliente Bench ${i}`, telefone: '11987654321', email: `cliente${i}@exemplo.com.br`, data_nascimento: '1985-04-12' },
  }
}

/** Seed one row through POST /cache/simulacao/salvar and check GET /cache/simulacao/:cpf answers it. */
export async function prepareCacheRead (base: string, auth: Record<string, string>, cpf = '46210648860'): Promise<Prepared<{ path: string }>> {
  const saved = await callJson('POST', `${base}/cache/simulacao/salvar`, { body: sampleSimulation(cpf), headers: auth })
  if (routeMissing(saved)) return { ok: false, reason: 'POST /cache/simulacao/salvar is not registered yet (src/http/routes/cache.ts)' }
  if (saved.status >= 300) return { ok: false, reason: `seeding the cache failed: ${brief(saved)}` }
  const path = `/cache/simulacao/${cpf}`
  const read = await callJson('GET', `${base}${path}`, { headers: auth })
  if (routeMissing(read)) return { ok: false, reason: 'GET /cache/simulacao/:cpf is not registered yet' }
  if (read.status !== 200) return { ok: false, reason: `reading the seeded row failed: ${brief(read)}` }
  return { ok: true, path }
}

/** Run the CLT flow for an `ok` person of the sandbox until it succeeds, then check POST /clt/simular-cache answers 2xx. */
export async function prepareSimularCache (
  base: string,
  auth: Record<string, string>,
  sandbox: BenchSandbox,
  log: (m: string) => void
): Promise<Prepared<{ body: string; cpf: string }>> {
  const [person] = await sandbox.people('ok', 1)
  if (!person) return { ok: false, reason: 'the sandbox listed no ok person' }
  const end = Date.now() + 30_000
  let last: { status: number; body: unknown } | undefined
  while (Date.now() < end) {
    last = await callJson('POST', `${base}/clt/fluxo-completo`, { body: { cpf: person.cpf }, headers: auth, timeoutMs: 60_000 })
    if (routeMissing(last)) return { ok: false, reason: 'POST /clt/fluxo-completo is not registered yet (src/http/routes/clt.ts)' }
    if (last.status === 200) break
    if (last.status !== 202) return { ok: false, reason: `the flow did not succeed for an ok person: ${brief(last)}` }
    await sleep(300) // pendente: the consult is still being analysed; calling again resumes it
  }
  if (last?.status !== 200) return { ok: false, reason: `the flow was still pending after 30 s (${last ? brief(last) : 'no answer'})` }
  log('flow done for the simular-cache CPF')
  const body = JSON.stringify({ cpf: person.cpf })
  const sim = await callJson('POST', `${base}/clt/simular-cache`, { body: { cpf: person.cpf }, headers: auth })
  if (routeMissing(sim)) return { ok: false, reason: 'POST /clt/simular-cache is not registered yet (src/http/routes/clt.ts)' }
  if (sim.status >= 300) return { ok: false, reason: `POST /clt/simular-cache answered ${brief(sim)}` }
  return { ok: true, body, cpf: person.cpf }
}
