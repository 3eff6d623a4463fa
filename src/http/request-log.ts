/**
 * One log line per request, written when the response is done: method, URL, status, time, client address.
 *
 * Fastify's default is two lines per request (on arrival and on completion, plus a third for a 404), each carrying
 * the request's headers through redaction and the masking hook; at the request rates a tenant can serve, that
 * doubled the logging cost of every route for lines that say nothing the completion line does not. Fastify's other
 * lines (errors, serializer and stream failures) are kept. A 5xx answer's line is a warning, so a route that lowers
 * its own noise with `logLevel: 'warn'` (the /health probe) logs nothing when all is well and every probe that
 * finds trouble.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

export class RequestLog extends LogController {
  override incomingRequest (): void {}

  /** The completion line says 404 already. */
  override routeNotFound (): void {}

  override requestCompleted (error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(req)) return
    const line = { method: req.method, url: req.url, statusCode: reply.statusCode, responseTime: Math.round(reply.elapsedTime * 10) / 10, remoteAddress: req.ip }
    if (error) reply.log.error({ ...line, err: error }, 'request errored')
    else if (reply.statusCode >= 500) reply.log.warn(line, 'request completed')
    else reply.log.info(line, 'request completed')
  }
}
