/** GET /v8/operacoes: the tenant's V8 operations (contracts) in a date range, from V8's real rows (operationId, name, documentNumber, history). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { badRequest } from '../../errors.js'
import type { Operation, V8Client } from '../../upstream/v8.js'

const DAY = 86_400_000
export const DEFAULT_RANGE_DAYS = 30
export const MAX_RANGE_DAYS = 366

const dateText = z.string().trim().max(40).describe('AAAA-MM-DD ou data/hora ISO 8601')
const query = z.object({
  startDate: dateText.optional(),
  endDate: dateText.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  provider: z.enum(['QI', 'CELCOIN']).optional().describe('Empresa (provider) da V8; padrão: V8_PROVIDER da porta'),
})

const operacao = z.object({
  operationId: z.string(),
  contractNumber: z.string().nullable(),
  nome: z.string().nullable(),
  cpf: z.string().nullable(),
  valor_liberado: z.number().nullable(),
  valor_emissao: z.number().nullable(),
  status: z.string(),
  empresa: z.string(),
  partnerId: z.string().nullable(),
  createdAt: z.string().nullable(),
  /** V8's history entries as it sends them (action, description, reason, created_at), as the older system passed them. */
  history: z.array(z.record(z.string(), z.unknown())),
})
const reply = z.object({
  success: z.boolean(),
  message: z.string(),
  total: z.number(),
  pagina: z.number(),
  limite: z.number(),
  periodo: z.object({ startDate: z.string(), endDate: z.string() }),
  empresas: z.array(z.string()),
  operacoes: z.array(operacao),
})

/** A date (whole day: start or end of it, UTC) or an ISO date-time; null when it is not a real one. */
export function parseDateParam (text: string, edge: 'start' | 'end'): number | null {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])]
    const at = Date.UTC(y, m - 1, d)
    const back = new Date(at)
    if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) return null
    return edge === 'start' ? at : at + DAY - 1
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(text)) return null
  const at = Date.parse(text)
  return Number.isNaN(at) ? null : at
}

export function dateRange (q: { startDate?: string | undefined; endDate?: string | undefined }, now: number): { start: number; end: number } {
  const end = q.endDate !== undefined ? parseDateParam(q.endDate, 'end') : now
  if (end === null) throw badRequest('data_invalida', `endDate inválida: ${q.endDate}. Use AAAA-MM-DD ou data/hora ISO 8601.`)
  const start = q.startDate !== undefined ? parseDateParam(q.startDate, 'start') : end - DEFAULT_RANGE_DAYS * DAY
  if (start === null) throw badRequest('data_invalida', `startDate inválida: ${q.startDate}. Use AAAA-MM-DD ou data/hora ISO 8601.`)
  if (end < start) throw badRequest('periodo_invalido', 'endDate deve ser igual ou posterior a startDate.')
  if (end - start > MAX_RANGE_DAYS * DAY) throw badRequest('periodo_invalido', `O período pode ter no máximo ${MAX_RANGE_DAYS} dias.`)
  return { start, end }
}

export function toOperacao (op: Operation, provider: string): z.infer<typeof operacao> {
  const cpf = op.documentNumber?.replace(/\D/g, '')
  return {
    operationId: op.operationId,
    contractNumber: op.contractNumber,
    nome: op.name,
    cpf: cpf || null,
    valor_liberado: op.disbursedIssueAmount ?? op.issueAmount,
    valor_emissao: op.issueAmount,
    status: op.status,
    empresa: op.provider ?? provider,
    partnerId: op.partnerId,
    createdAt: op.createdAt,
    history: op.history,
  }
}

export interface V8RouteOptions {
  v8: Pick<V8Client, 'listOperations'>
  now: () => number
  /** The tenant's V8_PROVIDER, read per request (the `provider` query overrides it). */
  provider: () => string
}

export const v8Routes: FastifyPluginAsyncZod<V8RouteOptions> = async (app, { v8, now, provider: defaultProvider }) => {
  /** GET /v8/operacoes */
  app.get(
    '/v8/operacoes',
    { schema: { tags: ['V8'], summary: 'Operações (contratos) da V8 no período; padrão: últimos 30 dias', querystring: query, response: { 200: reply } } },
    async (req) => {
      const { start, end } = dateRange(req.query, now())
      const startDate = new Date(start).toISOString()
      const endDate = new Date(end).toISOString()
      const provider = req.query.provider ?? defaultProvider()
      const ops = await v8.listOperations({ startDate, endDate, limit: req.query.limit, page: req.query.page, provider })
      // Newest first, as the older route answered.
      const operacoes = ops.map((op) => toOperacao(op, provider)).sort((a, b) => Date.parse(b.createdAt ?? '') - Date.parse(a.createdAt ?? '') || 0)
      return {
        success: true,
        message: 'Operações listadas com sucesso',
        total: operacoes.length,
        pagina: req.query.page,
        limite: req.query.limit,
        periodo: { startDate, endDate },
        empresas: [provider],
        operacoes,
      }
    }
  )
}
