/** The state of V8 webhooks and client callbacks, for operators and the config page (API key required). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { TenantConfig } from '../../config/schema.js'
import type { DeliveryState, Outbox, OutboxRow } from '../../domain/events/outbox.js'
import type { WebhookService } from '../../domain/webhooks/service.js'
import { notFound } from '../../errors.js'

export interface WebhookAdminOptions {
  webhooks: Pick<WebhookService, 'status' | 'recent' | 'registrar'>
  outbox: Pick<Outbox, 'list' | 'counts' | 'requeue' | 'get'>
  config: () => TenantConfig
}

const STATE_PT: Record<DeliveryState, string> = { pending: 'pendente', sending: 'enviando', delivered: 'entregue', dead: 'morto' }
const STATE_OF: Record<string, DeliveryState> = Object.fromEntries(Object.entries(STATE_PT).map(([k, v]) => [v, k as DeliveryState]))
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

/** A URL as an operator may see it: no userinfo, no query (either may hold a token). */
export function shownCallbackUrl (url: string): string {
  if (url === '') return ''
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`
  } catch {
    return '(inválida)'
  }
}

const registro = z.object({
  tipo: z.enum(['consult', 'operation']),
  status: z.string(),
  registrado_em: z.string().nullable(),
  tentativas: z.number(),
  ultimo_erro: z.string().nullable(),
  teste_recebido_em: z.string().nullable(),
  confirmado_em: z.string().nullable(),
})

const estado = z.object({
  success: z.literal(true),
  v8: z.object({
    configurado: z.boolean(),
    url: z.object({ consult: z.string(), operation: z.string() }).nullable(),
    registros: z.array(registro),
    recusados: z.number().describe('Entregas a um caminho errado desde o início do processo'),
    eventos: z.object({ pendentes: z.number(), aplicados: z.number(), ignorados: z.number(), falhas: z.number(), duplicados: z.number() }),
  }),
  callbacks: z.object({
    configurado: z.boolean(),
    url: z.string(),
    tentativas_max: z.number(),
    pendentes: z.number(),
    enviando: z.number(),
    entregues: z.number(),
    mortos: z.number(),
  }),
})

const entrega = z.object({
  evento_id: z.string(),
  tipo: z.string(),
  status: z.string(),
  tentativas: z.number(),
  ultimo_status_http: z.number().nullable(),
  ultimo_erro: z.string().nullable(),
  criado_em: z.string(),
  proxima_tentativa_em: z.string().nullable(),
  entregue_em: z.string().nullable(),
})

const toEntrega = (r: OutboxRow): z.infer<typeof entrega> => ({
  evento_id: r.id,
  tipo: r.type,
  status: STATE_PT[r.state],
  tentativas: r.attempts,
  ultimo_status_http: r.lastStatus,
  ultimo_erro: r.lastError,
  criado_em: iso(r.createdAt)!,
  proxima_tentativa_em: r.state === 'pending' ? iso(r.nextAttemptAt) : null,
  entregue_em: iso(r.deliveredAt),
})

export const webhookAdminRoutes: FastifyPluginAsyncZod<WebhookAdminOptions> = async (app, { webhooks, outbox, config }) => {
  const tags = ['Webhooks']

  /** GET /webhooks/estado */
  app.get('/webhooks/estado', { schema: { tags, summary: 'Registro dos webhooks na V8, eventos recebidos e entregas ao CALLBACK_URL', response: { 200: estado } } }, async () => {
    const s = webhooks.status()
    const c = outbox.counts()
    const cfg = config()
    return {
      success: true as const,
      v8: {
        configurado: s.url !== null,
        url: s.url,
        registros: s.registrations.map((r) => ({
          tipo: r.kind,
          status: r.status,
          registrado_em: iso(r.registeredAt),
          tentativas: r.attempts,
          ultimo_erro: r.lastError,
          teste_recebido_em: iso(r.testAt),
          confirmado_em: iso(r.confirmedAt),
        })),
        recusados: s.refused,
        eventos: { pendentes: s.events.pending, aplicados: s.events.applied, ignorados: s.events.ignored, falhas: s.events.failed, duplicados: s.events.duplicates },
      },
      callbacks: {
        configurado: cfg.CALLBACK_URL !== '',
        url: shownCallbackUrl(cfg.CALLBACK_URL),
        tentativas_max: cfg.CALLBACK_MAX_ATTEMPTS,
        pendentes: c.pending,
        enviando: c.sending,
        entregues: c.delivered,
        mortos: c.dead,
      },
    }
  })

  /** GET /webhooks/entregas */
  app.get(
    '/webhooks/entregas',
    {
      schema: {
        tags,
        summary: 'Entregas recentes ao CALLBACK_URL (mais novas primeiro)',
        querystring: z.object({ status: z.enum(['pendente', 'enviando', 'entregue', 'morto']).optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: { 200: z.object({ success: z.literal(true), entregas: z.array(entrega) }) },
      },
    },
    async (req) => ({ success: true as const, entregas: outbox.list({ state: req.query.status ? STATE_OF[req.query.status] : undefined, limit: req.query.limit }).map(toEntrega) })
  )

  /** POST /webhooks/entregas/:id/reenviar */
  app.post(
    '/webhooks/entregas/:id/reenviar',
    {
      schema: {
        tags,
        summary: 'Põe de novo na fila um evento morto (mesmo evento_id: o receptor continua deduplicando)',
        params: z.object({ id: z.string().min(1).max(200) }),
        response: { 200: z.object({ success: z.literal(true), message: z.string(), entrega }) },
      },
    },
    async (req) => {
      const row = outbox.get(req.params.id)
      if (!row) throw notFound('evento_nao_encontrado', 'Evento não encontrado na fila de entregas.')
      const requeued = outbox.requeue(req.params.id)
      return { success: true as const, message: requeued ? 'Evento de volta à fila.' : `O evento não está morto (${STATE_PT[row.state]}); nada mudou.`, entrega: toEntrega(outbox.get(req.params.id)!) }
    }
  )

  /** GET /webhooks/eventos */
  app.get(
    '/webhooks/eventos',
    {
      schema: {
        tags,
        summary: 'Eventos recebidos da V8 (mais novos primeiro) e o que foi feito com cada um',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: {
          200: z.object({
            success: z.literal(true),
            eventos: z.array(z.object({ id: z.string(), tipo: z.string(), referencia: z.string().nullable(), status: z.string().nullable(), estado: z.string(), resultado: z.string().nullable(), entregas: z.number(), recebido_em: z.string(), aplicado_em: z.string().nullable() })),
          }),
        },
      },
    },
    async (req) => ({
      success: true as const,
      eventos: webhooks.recent(req.query.limit).map((e) => ({ id: e.id, tipo: e.type, referencia: e.ref, status: e.status, estado: e.state, resultado: e.outcome, entregas: e.deliveries, recebido_em: iso(e.receivedAt)!, aplicado_em: iso(e.appliedAt) })),
    })
  )

  /** POST /webhooks/registrar */
  app.post(
    '/webhooks/registrar',
    { schema: { tags, summary: 'Registra de novo os webhooks na V8 agora (também acontece ao iniciar e ao mudar PUBLIC_URL ou o login)', response: { 202: z.object({ success: z.literal(true), message: z.string() }) } } },
    async (_req, reply) => {
      webhooks.registrar.register()
      return reply.code(202).send({ success: true as const, message: config().PUBLIC_URL === '' ? 'PUBLIC_URL não está definida: nada a registrar.' : 'Registro iniciado; veja GET /webhooks/estado.' })
    }
  )
}
