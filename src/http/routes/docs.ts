/**
 * OpenAPI document at GET /docs/json (every route's zod schema via jsonSchemaTransform) and Swagger UI at /docs.
 * Public on purpose: it describes the route shapes every tenant shares (the same text as this repository), holds no
 * tenant data or secret, and a browser cannot attach a Bearer key to a page load; every call it makes still needs the key
 * (the UI's "Authorize" button). Call registerDocs BEFORE any route is registered: swagger collects routes as they are added.
 */
import fs from 'node:fs'
import path from 'node:path'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'
import { CODE_DIR } from '../../config/paths.js'
import type { TenantConfig } from '../../config/schema.js'
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

export async function registerDocs (app: App, config: TenantConfig): Promise<void> {
  await app.register(swagger, {
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
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: false, persistAuthorization: false, tryItOutEnabled: false },
    // The app's strict CSP stays (no inline script, no 'unsafe-inline'); Swagger UI's bundle injects one fixed
    // <style> element, allowed by its hash on /docs only (the browser test fails if an upgrade changes it).
    transformStaticCSP: (header) => header.replace("style-src 'self'", `style-src 'self' '${SWAGGER_UI_STYLE_HASH}'`),
  })
}
