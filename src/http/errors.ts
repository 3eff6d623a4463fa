/** One error shape for every response: {success:false, error:<code>, message:<pt>, details?}; no internals on 5xx. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { AppError, bytesInWords } from '../errors.js'
import { boundText } from '../log/mask.js'
import { UpstreamError } from '../upstream/errors.js'
import { redactWebhookPath } from './webhook-path.js'

export interface ErrorBody {
  success: false
  error: string
  message: string
  details?: Record<string, unknown>
}

const FASTIFY_CODES: Record<string, [string, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['json_invalido', 'O corpo da requisição não é um JSON válido.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['json_invalido', 'O corpo da requisição está vazio, mas o Content-Type é JSON.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['tipo_nao_suportado', 'Content-Type não suportado; envie application/json.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['requisicao_invalida', 'Content-Length não confere com o corpo enviado.'],
}

/** Whether a request was refused for a body over its route's bodyLimit (declared by Content-Length or counted as it arrived). */
export function isBodyTooLarge (err: unknown): boolean {
  return (err as FastifyError | undefined)?.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
}

/**
 * The one error body for an error. `bodyLimit` is the limit of the request's route (fastify enforces each route's
 * own, checking a declared Content-Length before reading and a chunked body as it arrives): a body over it is told
 * the limit in words.
 */
export function toErrorBody (err: unknown, bodyLimit?: number): { status: number; body: ErrorBody } {
  if (err instanceof AppError) {
    return { status: err.statusCode, body: { success: false, error: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } }
  }
  const fe = err as FastifyError
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const campos = fe.validation.map((v) => ({
      campo: [fe.validationContext, ...String(v.instancePath ?? '').split('/').filter(Boolean)].filter(Boolean).join('.'),
      erro: v.message ?? 'inválido',
    }))
    const first = campos[0]
    return {
      status: 400,
      body: {
        success: false,
        error: 'requisicao_invalida',
        message: first ? `Campo inválido: ${first.campo} (${first.erro}).` : 'Requisição inválida.',
        details: { campos },
      },
    }
  }
  if (isBodyTooLarge(fe)) {
    const body: ErrorBody = bodyLimit === undefined
      ? { success: false, error: 'corpo_muito_grande', message: 'O corpo da requisição excede o tamanho máximo permitido.' }
      : { success: false, error: 'corpo_muito_grande', message: `O corpo da requisição excede o máximo de ${bytesInWords(bodyLimit)}.`, details: { maximo_bytes: bodyLimit } }
    return { status: 413, body }
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined
  if (mapped) return { status: fe.statusCode ?? 400, body: { success: false, error: mapped[0], message: mapped[1] } }
  if (fe.statusCode === 429) {
    return { status: 429, body: { success: false, error: 'muitas_requisicoes', message: 'Muitas requisições; aguarde e tente novamente.' } }
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { success: false, error: 'requisicao_invalida', message: fe.message } }
  }
  return { status: 500, body: { success: false, error: 'erro_interno', message: 'Erro interno; o problema foi registrado no log do serviço.' } }
}

export function registerErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toErrorBody(err, req.routeOptions.bodyLimit)
    // When to come back, for clients that read headers rather than bodies (quotas, lockouts, a busy upstream).
    const retryAfter = body.details?.['retry_after_s']
    if ((status === 429 || status === 503) && typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter))
    // An upstream's refusal or outage (a wrong V8 password typed into "Testar conexão", V8 down) is not a fault of
    // this service: one warning with the upstream's reason, no stack trace. Only our own failures are errors.
    if (err instanceof UpstreamError) req.log.warn({ code: body.error, status, upstream: err.upstream, reason: body.message }, 'upstream refused or failed')
    else if (status >= 500) req.log.error({ err }, 'request failed')
    // 401, 404 and 429 say nothing the request line does not (and an attacker makes them at will): no second line.
    else if (status !== 401 && status !== 404 && status !== 429) req.log.info({ code: body.error, status }, 'request rejected')
    return reply.code(status).send(body)
  })
  app.setNotFoundHandler((req, reply) => {
    const route = boundText(redactWebhookPath(req.url.split('?')[0] ?? ''), 200)
    return reply.code(404).send({ success: false, error: 'rota_nao_encontrada', message: `Rota não encontrada: ${req.method} ${route}` } satisfies ErrorBody)
  })
}
