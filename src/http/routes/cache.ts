/** Simulation cache routes: save, read, list (paginated), delete — per tenant, keyed by normalized CPF, with a TTL. */
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { SimulationCache, SimulationCacheEntry } from '../../domain/simulation-cache.js'
import { notFound } from '../../errors.js'
import { fastJson } from '../fast-json.js'

export interface CacheRouteOptions {
  cache: SimulationCache
}

const cpf = z.union([z.string().max(32), z.number()]).describe('CPF com ou sem pontuação (11 dígitos)')
const jsonObject = z.record(z.string(), z.unknown())

const saveBody = z.object({
  cpf,
  consultId: z.string().trim().min(1).max(128),
  dadosSimulacao: jsonObject,
  dadosCliente: jsonObject.nullable().optional(),
})
const cpfParams = z.object({ cpf: z.string().max(32) })
const listQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
})

const item = z.object({
  cpf: z.string(),
  consultId: z.string(),
  dadosSimulacao: jsonObject,
  dadosCliente: jsonObject.nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
})
const one = z.object({ success: z.literal(true), simulacao: item })

const view = (e: SimulationCacheEntry): z.infer<typeof item> => ({
  cpf: e.cpf,
  consultId: e.consultId,
  dadosSimulacao: e.dadosSimulacao,
  dadosCliente: e.dadosCliente,
  createdAt: new Date(e.createdAt).toISOString(),
  expiresAt: new Date(e.expiresAt).toISOString(),
})

const absent = (): Error => notFound('cache_nao_encontrado', 'Nenhuma simulação em cache para este CPF (ou ela expirou).')

export const cacheRoutes: FastifyPluginAsync<CacheRouteOptions> = async (plain, { cache }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>()
  const tags = ['Cache de simulações']

  /** POST /cache/simulacao/salvar */
  app.post(
    '/cache/simulacao/salvar',
    { schema: { tags, summary: 'Salva (ou substitui) a simulação aprovada de um CPF', body: saveBody, response: { 200: one.extend({ message: z.string() }) } } },
    async (req) => {
      const saved = cache.save(req.body)
      return { success: true as const, message: 'Simulação salva no cache.', simulacao: view(saved) }
    }
  )

  /** GET /cache/simulacao/:cpf */
  app.get(
    '/cache/simulacao/:cpf',
    // The hottest authenticated read: its answer is built field by field below, so fast-json-stringify writes it.
    { schema: { tags, summary: 'Simulação em cache de um CPF (404 se ausente ou expirada)', params: cpfParams, response: { 200: one } }, serializerCompiler: fastJson },
    async (req) => {
      const found = cache.get(req.params.cpf)
      if (!found) throw absent()
      return { success: true as const, simulacao: view(found) }
    }
  )

  /** GET /cache/simulacoes */
  app.get(
    '/cache/simulacoes',
    {
      schema: {
        tags,
        summary: 'Simulações em cache, mais recentes primeiro',
        querystring: listQuery,
        response: { 200: z.object({ success: z.literal(true), total: z.number(), page: z.number(), limit: z.number(), simulacoes: z.array(item) }) },
      },
    },
    async (req) => {
      const { page, limit } = req.query
      const { total, items } = cache.list(page, limit)
      return { success: true as const, total, page, limit, simulacoes: items.map(view) }
    }
  )

  /** DELETE /cache/simulacao/:cpf */
  app.delete(
    '/cache/simulacao/:cpf',
    { schema: { tags, summary: 'Remove a simulação em cache de um CPF', params: cpfParams, response: { 200: z.object({ success: z.literal(true), message: z.string() }) } } },
    async (req) => {
      if (!cache.delete(req.params.cpf)) throw absent()
      return { success: true as const, message: 'Simulação removida do cache.' }
    }
  )
}
