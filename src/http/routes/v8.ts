/** GET /v8/operacoes: the tenant's V8 operations (contracts) in a date range, normalized. */
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
})

const operacao = z.object({
  operationId: z.string(),
  contractNumber: z.string().nullable(),
  nome: z.string().nullable(),
  cpf: z.string().nullable(),
  valor_liberado: z.number().nullable(),
  valor_emissao: z.number().nullable(),
  status: z.string(),
  createdAt: z.string().nullable(),
})
const reply = z.object({
  success: z.boolean(),
  total: z.number(),
  pagina: z.number(),
  limite: z.number(),
  periodo: z.object({ startDate: z.string(), endDate: z.string() }),
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

function amount (v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN
  return Number.isFinite(n) ? n : null
}

export function toOperacao (op: Operation): z.infer<typeof operacao> {
  const cpf = op.borrower?.documentNumber?.replace(/\D/g, '')
  return {
    operationId: op.id,
    contractNumber: op.contractNumber === null || op.contractNumber === undefined ? null : String(op.contractNumber),
    nome: op.borrower?.name ?? null,
    cpf: cpf || null,
    valor_liberado: amount(op.disbursedIssueAmount) ?? amount(op.issueAmount),
    valor_emissao: amount(op.issueAmount),
    status: op.status,
    createdAt: op.createdAt ?? null,
  }
}

export interface V8RouteOptions {
  v8: Pick<V8Client, 'listOperations'>
  now: () => number
}

export const v8Routes: FastifyPluginAsyncZod<V8RouteOptions> = async (app, { v8, now }) => {
  /** GET /v8/operacoes */
  app.get(
    '/v8/operacoes',
    { schema: { tags: ['V8'], summary: 'Operações (contratos) da V8 no período; padrão: últimos 30 dias', querystring: query, response: { 200: reply } } },
    async (req) => {
      const { start, end } = dateRange(req.query, now())
      const startDate = new Date(start).toISOString()
      const endDate = new Date(end).toISOString()
      const ops = await v8.listOperations({ startDate, endDate, limit: req.query.limit, page: req.query.page })
      const operacoes = ops.map(toOperacao)
      return { success: true, total: operacoes.length, pagina: req.query.page, limite: req.query.limit, periodo: { startDate, endDate }, operacoes }
    }
  )
}
