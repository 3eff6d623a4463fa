/** V8's Auth0 password grant (POST /oauth/token) and the bearer-token check of the BFF routes. */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SandboxState } from './state.js'

export const SANDBOX_PASSWORD = 'sandbox'
export const V8_AUDIENCE = 'https://bff.v8sistema.com'
/** Expired tokens are swept once this many are held (a long-running sandbox must not grow forever). */
const SWEEP_AT = 10_000
const REQUIRED = ['grant_type', 'username', 'password', 'audience', 'client_id'] as const

export function authRoutes (app: FastifyInstance, state: SandboxState): void {
  /** POST /oauth/token */
  app.post('/oauth/token', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const field = (name: string): string => (typeof body[name] === 'string' ? (body[name] as string) : '')
    const missing = REQUIRED.find((name) => field(name) === '')
    if (missing) return reply.code(400).send({ error: 'invalid_request', error_description: `Missing required parameter: ${missing}` })
    if (field('grant_type') !== 'password') {
      return reply.code(400).send({ error: 'unsupported_grant_type', error_description: 'Unsupported grant type: ' + field('grant_type') })
    }
    const now = state.now()
    const { tokenRps, loginFailuresPerMinute } = state.config
    const second = Math.floor(now / 1000)
    if (state.tokenWindow.second !== second) state.tokenWindow = { second, count: 0 }
    if (tokenRps > 0 && ++state.tokenWindow.count > tokenRps) {
      return reply.code(429).send({ error: 'too_many_requests', error_description: 'Global limit has been reached' })
    }
    if (field('audience') !== V8_AUDIENCE) {
      return reply.code(403).send({ error: 'access_denied', error_description: `Service not enabled within domain: ${field('audience')}` })
    }
    const user = field('username').toLowerCase()
    const minute = Math.floor(now / 60_000)
    const failures = state.loginFailures.get(user)
    const failuresNow = failures && failures.minute === minute ? failures.count : 0
    if (loginFailuresPerMinute > 0 && failuresNow >= loginFailuresPerMinute) {
      return reply.code(429).send({
        error: 'too_many_attempts',
        error_description: 'Your account has been blocked after multiple consecutive login attempts.',
      })
    }
    if (field('password') !== SANDBOX_PASSWORD) {
      state.loginFailures.set(user, { minute, count: failuresNow + 1 })
      state.stats.login_failures++
      return reply.code(403).send({ error: 'invalid_grant', error_description: 'Wrong email or password.' })
    }
    const token = randomBytes(24).toString('base64url')
    if (state.tokens.size >= SWEEP_AT) for (const [t, e] of state.tokens) if (e.expiresAt <= now) state.tokens.delete(t)
    state.tokens.set(token, { user, expiresAt: now + state.config.tokenTtlSeconds * 1000 })
    state.stats.tokens_issued++
    state.count('tokens_by_user', user)
    return {
      access_token: token,
      token_type: 'Bearer',
      expires_in: state.config.tokenTtlSeconds,
      scope: field('scope') || 'offline_access',
    }
  })
}

/** The V8 user behind the request's bearer token, or null after answering 401 like the BFF does. */
export function bearerUser (state: SandboxState, request: FastifyRequest, reply: FastifyReply): string | null {
  const header = request.headers.authorization ?? ''
  const match = /^Bearer\s+(\S+)$/i.exec(header)
  const entry = match?.[1] ? state.tokens.get(match[1]) : undefined
  let detail = ''
  if (!match) detail = 'Missing bearer token'
  else if (!entry) detail = 'Invalid or revoked token'
  else if (entry.expiresAt <= state.now()) detail = 'Token expired'
  if (detail || !entry) {
    void reply.code(401).send({ type: 'unauthorized', title: 'Unauthorized', detail: detail || 'Unauthorized' })
    return null
  }
  return entry.user
}
