/**
 * POST /webhooks/v8/<secret>[/consult|/operation]: where V8 delivers events. Outside the API-key scope (V8 sends no
 * credentials); the unguessable path is the credential. A wrong secret is a plain 404, counted. A right one is stored
 * and answered 200 at once, even when applying it later fails (V8 redelivers anything else, duplicating work); only
 * a failure to store it answers 503, so V8 tries again and nothing is lost.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { WebhookService } from '../../domain/webhooks/service.js'
import type { WebhookKind } from '../../upstream/v8-operations.js'
import type { ErrorBody } from '../errors.js'
import { redactWebhookPath } from '../webhook-path.js'

export interface WebhookRouteOptions {
  webhooks: Pick<WebhookService, 'receive' | 'refuse'>
}

/** V8 payloads are 2–10 KB; a megabyte leaves room and caps abuse. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024

export const v8WebhookRoutes: FastifyPluginAsync<WebhookRouteOptions> = async (app, { webhooks }) => {
  // The body is read as text here (whatever the content type V8 sends) and parsed below, so a malformed one is
  // answered by us, not by the JSON parser's 400 (which V8 would redeliver forever).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body))

  const handler = async (req: FastifyRequest<{ Params: { secret: string; kind?: string } }>, reply: FastifyReply): Promise<FastifyReply> => {
    const kind = req.params.kind === 'consult' || req.params.kind === 'operation' ? (req.params.kind as WebhookKind) : undefined
    if (req.params.kind !== undefined && kind === undefined) {
      webhooks.refuse()
      return notFound(req, reply)
    }
    let payload: unknown
    try {
      payload = typeof req.body === 'string' && req.body.trim() !== '' ? JSON.parse(req.body) : req.body
    } catch {
      payload = undefined
    }
    let receipt
    try {
      receipt = webhooks.receive(req.params.secret, kind, payload === undefined ? { type: '', invalid_json: true } : payload)
    } catch (err) {
      req.log.error({ err }, 'v8 webhook: could not store the event; V8 will deliver it again')
      return reply.code(503).send({ ok: false })
    }
    if (!receipt.accepted) return notFound(req, reply)
    req.log.info({ event: receipt.id, type: receipt.type, duplicate: receipt.duplicate, kind }, 'v8 webhook received')
    return reply.code(200).send({ ok: true })
  }

  // The limit on the routes, not the parser: the route's bodyLimit is the one fastify enforces and the one a 413 names.
  const options = { bodyLimit: WEBHOOK_BODY_LIMIT, schema: { hide: true } }
  app.post('/webhooks/v8/:secret', options, handler)
  app.post('/webhooks/v8/:secret/:kind', options, handler)
}

/** The same answer as any unknown route, with the path's secret masked. */
function notFound (req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ success: false, error: 'rota_nao_encontrada', message: `Rota não encontrada: ${req.method} ${redactWebhookPath(req.url.split('?')[0] ?? '')}` } satisfies ErrorBody)
}
