/**
 * OpenAPI document at GET /docs/json (every route's zod schema via jsonSchemaTransform) and Swagger UI at /docs.
 * Public on purpose: it describes the route shapes every tenant shares (the same text as this repository), holds no
 * tenant data or secret, and a browser cannot attach a Bearer key to a page load; every call it makes still needs the key
 * (the UI's "Authorize" button). Call registerDocs BEFORE any route is registered: it notes routes as they are added.
 *
 * Nothing of Swagger is loaded at start: most tenants never open /docs, and @fastify/swagger, Swagger UI,
 * @fastify/static and their module graph would cost every process start-up time and memory. The routes' schemas are
 * noted as they are registered; the first request under /docs builds a small fastify instance of its own with the
 * same routes (schemas only, no handlers reachable), @fastify/swagger and Swagger UI, and requests under /docs are
 * passed to it from then on.
 */
import fs from 'node:fs'
import path from 'node:path'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifySchema, type HTTPMethods } from 'fastify'
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { CODE_DIR } from '../../config/paths.js'
import type { TenantConfig } from '../../config/schema.js'
import { registerSecurityHeaders } from '../security-headers.js'
import type { App } from '../types.js'

const version = (): string => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(CODE_DIR, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

/** sha256 of the stylesheet swagger-ui-bundle.js (@fastify/swagger-ui 6.x) inserts at run time. */
export const SWAGGER_UI_STYLE_HASH = 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='

interface NotedRoute {
  method: HTTPMethods | HTTPMethods[]
  url: string
  schema?: FastifySchema
}

export async function registerDocs (app: App, config: TenantConfig): Promise<void> {
  const routes: NotedRoute[] = []
  app.addHook('onRoute', (r) => {
    // HEAD twins are made again by the inner instance (and left out of the document, as @fastify/swagger does).
    if (r.method === 'HEAD' || r.url.startsWith('/docs')) return
    routes.push({ method: r.method, url: r.url, ...(r.schema ? { schema: r.schema } : {}) })
  })
  let ui: Promise<FastifyInstance> | undefined
  const forward = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    ui ??= docsApp(config, routes).catch((err: unknown) => {
      ui = undefined // a failed load is tried again by the next request
      throw err
    })
    const res = await (await ui).inject({ method: req.method as 'GET', url: req.url, headers: { ...req.headers } })
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) reply.header(name, value)
    }
    return reply.code(res.statusCode).send(res.rawPayload.length > 0 ? res.rawPayload : undefined)
  }
  app.get('/docs', { schema: { hide: true } }, forward)
  app.get('/docs/*', { schema: { hide: true } }, forward)
}

/** Set by the answering server itself, not copied from the inner one. */
const HOP_HEADERS = new Set(['content-length', 'connection', 'date', 'keep-alive', 'transfer-encoding'])

/** The inner instance: the tenant's routes (for their schemas), the OpenAPI document and Swagger UI under /docs. */
async function docsApp (config: TenantConfig, routes: readonly NotedRoute[]): Promise<FastifyInstance> {
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui')])
  const inner = Fastify({ logger: false })
  inner.setValidatorCompiler(validatorCompiler)
  inner.setSerializerCompiler(serializerCompiler)
  // The same strict policy as the app, so the UI's hash can be added to it below and copied out with the answer.
  registerSecurityHeaders(inner)
  await inner.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: `clt-v8 — API do tenant ${config.TENANT_NAME} (porta ${config.PORT})`,
        description:
          'Automação de consignado CLT (V8 Digital, Kentro, PresençaBank). Toda rota exige `Authorization: Bearer <API_KEY>` da porta, ' +
          'exceto `GET /health` e a página `GET /config-v8`. Erros: `{success:false, error, message, details?}`.',
        version: version(),
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'API_KEY desta porta (tenants/config-<PORTA>.env)' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  })
  const notServed = async (): Promise<never> => { throw new Error('documentation only') }
  for (const r of routes) inner.route({ method: r.method, url: r.url, ...(r.schema ? { schema: r.schema } : {}), handler: notServed })
  await inner.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: false, persistAuthorization: false, tryItOutEnabled: false },
    // The app's strict CSP stays (no inline script, no 'unsafe-inline'); Swagger UI's bundle injects one fixed
    // <style> element, allowed by its hash on /docs only (the browser test fails if an upgrade changes it).
    transformStaticCSP: (header) => header.replace("style-src 'self'", `style-src 'self' '${SWAGGER_UI_STYLE_HASH}'`),
  })
  await inner.ready()
  return inner
}
