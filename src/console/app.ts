/**
 * buildConsoleApp(deps): the fleet console's fastify app. `/` is the fleet page (asks for the console's admin key),
 * `GET /api/tenants` the same data as JSON (admin key), `/t/<PORT>/…` a reverse proxy to that tenant, so its
 * /config-v8 page and /docs open from a port browsers accept (and TLS can end in one place). The proxy forwards
 * only to tenants of the fleet, streams both ways (POST bodies, SSE), and adds no credential: the tenant page
 * still asks for the tenant's own key.
 */
import path from 'node:path'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import replyFrom from '@fastify/reply-from'
import type { ConsoleConfig } from '../config/console.js'
import { CODE_DIR } from '../config/paths.js'
import type { Logger } from '../log/logger.js'
import { AppError } from '../errors.js'
import { AuthFailureGuard, requireBearer } from '../http/auth.js'
import { registerErrorHandling } from '../http/errors.js'
import { RequestLog } from '../http/request-log.js'
import { fastifyTrustProxy } from '../http/trust-proxy.js'
import { registerSecurityHeaders } from '../http/security-headers.js'
import { pageAssets, serveAssets } from '../http/static-assets.js'
import type { FleetSource, TenantRow } from './fleet.js'

export interface ConsoleDeps {
  /** Read at each request (held in memory; the process re-reads its file on SIGHUP): a rotated admin key applies at once. */
  config: () => ConsoleConfig
  fleet: FleetSource
  logger: Logger
  /** Folder of console.html, console.css and console/ (default src/console/public under CODE_DIR); shared files beside. */
  publicDir?: string
  /** How long one reading of the fleet is reused (default 2 s): many open pages cost one round of probes. */
  rowsCacheMs?: number
  now?: () => number
  /** Deadline for a tenant's response headers (default 130 s: above a tenant's own 120 s request timeout). */
  upstreamHeadersTimeoutMs?: number
  /** Longest silence inside a response body (default 60 s; an event stream sends a heartbeat every 15 s). */
  upstreamBodyTimeoutMs?: number
}

const PROXY_PREFIX = /^\/t\/(\d{1,5})(\/.*)?$/

export async function buildConsoleApp (deps: ConsoleDeps): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new RequestLog({ secrets: () => [deps.config().ADMIN_KEY] }),
    // Behind Caddy every browser arrives from 127.0.0.1: TRUST_PROXY lets the admin-key lockout count each one.
    trustProxy: fastifyTrustProxy(deps.config().TRUST_PROXY),
    // Streams through the proxy (event streams) must not hold a shutdown: close them.
    forceCloseConnections: true,
    return503OnClosing: true,
    requestTimeout: 120_000,
  })
  registerErrorHandling(app)
  registerSecurityHeaders(app)

  const dir = deps.publicDir ?? path.join(CODE_DIR, 'src', 'console', 'public')
  /** GET /, /console/base.css, /console/app.css, /console/<module>.js */
  serveAssets(app, pageAssets({ pageUrl: '/', assetUrl: '/console', dir, name: 'console' }))

  /** GET /health — the console itself is up (the tenants' health is in /api/tenants). */
  app.get('/health', { logLevel: 'warn' }, async () => ({ status: 'OK', service: 'clt-v8-console' }))

  let cached: { at: number; rows: Promise<TenantRow[]> } | undefined
  const cacheMs = deps.rowsCacheMs ?? 2000
  const rows = (): Promise<TenantRow[]> => {
    const t = now()
    if (!cached || t - cached.at >= cacheMs) {
      const reading = deps.fleet.rows()
      cached = { at: t, rows: reading }
      reading.catch(() => { cached = undefined })
    }
    return cached.rows
  }

  await app.register(async (admin) => {
    const guard = new AuthFailureGuard(() => ({ failuresPerMinute: 10, lockoutSeconds: 60 }), now)
    admin.addHook('onRequest', requireBearer(() => deps.config().ADMIN_KEY, guard, undefined, {
      unauthorized: 'Chave de administrador ausente ou inválida: envie Authorization: Bearer <ADMIN_KEY> (npm run console:key).',
      tooMany: (seconds) => `Muitas chaves de administrador erradas deste endereço; tente de novo em ${seconds} s.`,
      lockedLog: 'auth: client locked out after repeated wrong admin keys',
    }))
    /** GET /api/tenants — every tenant: port, name, PM2 state, health, V8 login set, token age, batches, last error. */
    admin.get('/api/tenants', async () => ({ success: true, generated_at: new Date(now()).toISOString(), tenants: await rows() }))
  })

  await app.register(async (proxy) => {
    await proxy.register(replyFrom, {
      undici: {
        connections: 64,
        headersTimeout: deps.upstreamHeadersTimeoutMs ?? 130_000,
        bodyTimeout: deps.upstreamBodyTimeoutMs ?? 60_000,
      },
    })
    // Bodies pass through as bytes: the tenant parses and limits them, as when called directly.
    proxy.removeAllContentTypeParsers()
    proxy.addContentTypeParser('*', (_req, payload, done) => { done(null, payload) })

    const forward = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const m = PROXY_PREFIX.exec(req.url.split('?')[0]!)
      const port = Number(m?.[1])
      const target = Number.isInteger(port) ? deps.fleet.target(port) : undefined
      if (!target) throw new AppError('tenant_desconhecido', `Nenhum tenant na porta ${m?.[1] ?? '?'} desta frota.`, 404)
      const prefix = `/t/${port}`
      const rest = req.url.slice(prefix.length)
      // /t/6000 alone: its page.
      if (rest === '' || rest.startsWith('?')) return reply.redirect(`${prefix}/config-v8`, 302)
      // Swagger UI's page names its assets relative to itself only when its URL ends in '/'.
      if (rest === '/docs' || rest.startsWith('/docs?')) return reply.redirect(`${prefix}/docs/${rest.slice('/docs'.length)}`, 302)
      return reply.from(`${target.origin}${rest}`, {
        rewriteRequestHeaders: (_r, headers) => {
          // The hop this console saw (the socket's peer), not req.ip: with TRUST_PROXY that is the client Caddy named.
          const peer = req.socket.remoteAddress ?? req.ip
          const forwardedFor = headers['x-forwarded-for']
          return {
            ...headers,
            'x-forwarded-for': forwardedFor ? `${String(forwardedFor)}, ${peer}` : peer,
            'x-forwarded-proto': req.protocol,
            'x-forwarded-prefix': prefix,
          }
        },
        // A redirect the tenant answers with an absolute path stays under its prefix.
        rewriteHeaders: (headers) => {
          const loc = headers['location']
          if (typeof loc === 'string' && loc.startsWith('/') && !loc.startsWith('//')) return { ...headers, location: `${prefix}${loc}` }
          return headers
        },
        onError: (r, { error }) => {
          req.log.warn({ port, err: { message: (error as Error).message, code: (error as NodeJS.ErrnoException).code } }, 'console: tenant did not answer')
          void r.code(502).send({ success: false, error: 'tenant_indisponivel', message: `O tenant da porta ${port} não respondeu (parado, reiniciando ou travado): veja npm run tenant:list.` })
        },
      })
    }
    /** ALL /t/<PORT>/… — the tenant on PORT, as if called directly. */
    proxy.all('/t/:port', forward)
    proxy.all('/t/:port/*', forward)
  })

  return app
}
