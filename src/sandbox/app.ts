/** buildSandbox(opts): one fastify app serving simulated V8 (auth + BFF), Kentro and PresençaBank plus the /__sandbox control plane. */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify'
import { pino, type Logger } from 'pino'
import { authRoutes } from './auth.js'
import { controlRoutes } from './control.js'
import { CONTROL_PREFIX, faultHooks } from './faults.js'
import { kentroRoutes } from './kentro.js'
import { presencaRoutes } from './presenca.js'
import { DEFAULT_CONFIG, SandboxState, type SandboxConfig } from './state.js'
import { consultRoutes } from './v8-consult.js'
import { operationRoutes } from './v8-operations.js'
import { simulationRoutes } from './v8-simulation.js'
import { WebhookDispatcher, webhookRoutes } from './v8-webhooks.js'

export interface SandboxOptions extends Partial<SandboxConfig> {
  /** Defaults to a silent pino logger. */
  logger?: Logger
  /** Clock for token expiry and consult progression. */
  now?: () => number
}

export type SandboxApp = FastifyInstance & { sandboxState: SandboxState; webhooks: WebhookDispatcher }

/** The error body each upstream would use for a malformed request or an unknown route. */
function errorBody (request: FastifyRequest, status: number, text: string): Record<string, unknown> {
  const path = request.url
  if (path.startsWith('/oauth/')) return { error: status === 404 ? 'not_found' : 'invalid_request', error_description: text }
  if (path.startsWith('/kentro/') || path.startsWith('/presenca/')) return { message: text }
  if (path.startsWith(CONTROL_PREFIX)) return { error: status === 404 ? 'not_found' : 'bad_request', message: text }
  return { type: status === 404 ? 'not_found' : 'bad_request', title: status === 404 ? 'Not Found' : 'Bad Request', detail: text }
}

export async function buildSandbox (opts: SandboxOptions = {}): Promise<SandboxApp> {
  const { logger, now, ...overrides } = opts
  const config: SandboxConfig = { ...DEFAULT_CONFIG }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value
  const state = new SandboxState(config, now ?? Date.now)
  const held = new Set<FastifyRequest>()

  const app = Fastify({
    loggerInstance: (logger ?? pino({ level: 'silent' })) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // Held ('timeout' fault) and keep-alive sockets must not keep close() waiting.
    forceCloseConnections: true,
    return503OnClosing: false,
  })
  app.decorate('sandboxState', state)
  const dispatcher = new WebhookDispatcher(state)
  app.decorate('webhooks', dispatcher)

  // Auth0 and Kentro also take form-encoded bodies.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  // Operation documents arrive as multipart/form-data; the route reads the raw bytes.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    if (status === 500) request.log.error({ err: error }, 'sandbox handler failed')
    return reply.code(status).send(errorBody(request, status, status === 500 ? 'Internal Server Error' : error.message))
  })
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody(request, 404, `Route ${request.method} ${request.url.split('?')[0]} not found`)))

  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0] ?? request.url
    if (!path.startsWith(CONTROL_PREFIX)) state.count('routes', `${request.method} ${request.routeOptions.url ?? path}`)
  })
  const faults = faultHooks(state, held)
  app.addHook('onRequest', faults.onRequest)
  app.addHook('onSend', faults.onSend)
  app.addHook('onClose', async () => {
    dispatcher.close()
    for (const request of held) request.raw.socket.destroy()
    held.clear()
  })

  authRoutes(app, state)
  consultRoutes(app, state)
  simulationRoutes(app, state)
  operationRoutes(app, state)
  webhookRoutes(app, state, dispatcher)
  kentroRoutes(app, state)
  presencaRoutes(app, state)
  controlRoutes(app, state)
  dispatcher.start()
  return app as unknown as SandboxApp
}
