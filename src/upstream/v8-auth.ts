/** V8 Digital's Auth0 password grant: one request, errors mapped to what the operator must fix. */
import { z } from 'zod'
import type { TenantConfig } from '../config/schema.js'
import { UpstreamError, notConfigured, reasonOf, upstreamInvalidResponse } from './errors.js'
import { rateLimited, type HttpClient } from './http-client.js'

export interface V8Credentials {
  authUrl: string
  clientId: string
  audience: string
  username: string
  password: string
}

export interface GrantedToken {
  access_token: string
  token_type: string
  expires_in: number
}

const tokenShape = z.object({
  access_token: z.string().min(1),
  token_type: z.string().default('Bearer'),
  expires_in: z.coerce.number().positive(),
})

export function credentialsOf (config: TenantConfig, override?: { username: string; password: string }): V8Credentials {
  return {
    authUrl: config.V8_AUTH_URL,
    clientId: config.V8_CLIENT_ID,
    audience: config.V8_AUDIENCE,
    username: override?.username ?? config.V8_USERNAME,
    password: override?.password ?? config.V8_PASSWORD,
  }
}

export const V8_NOT_CONFIGURED = (): UpstreamError => notConfigured('V8', 'v8_not_configured', 'defina o usuário e a senha da V8 em /config-v8.')

const ROUTE = 'POST /oauth/token'

/** Never retried: a refused login repeated in a loop gets the user blocked by Auth0. */
export async function passwordGrant (http: HttpClient, creds: V8Credentials, signal?: AbortSignal): Promise<GrantedToken> {
  if (!creds.username || !creds.password) throw V8_NOT_CONFIGURED()
  const res = await http.send({
    upstream: 'V8',
    method: 'POST',
    url: creds.authUrl,
    route: ROUTE,
    idempotent: false,
    form: {
      grant_type: 'password',
      username: creds.username,
      password: creds.password,
      audience: creds.audience,
      scope: 'offline_access',
      client_id: creds.clientId,
    },
    ...(signal ? { signal } : {}),
  })
  if (res.status >= 200 && res.status < 300) {
    const parsed = tokenShape.safeParse(res.body)
    if (!parsed.success) throw upstreamInvalidResponse('V8', ROUTE, 'token ausente na resposta')
    return parsed.data
  }
  const { type, text } = reasonOf(res.body, `HTTP ${res.status}`)
  if (type === 'too_many_attempts') {
    throw new UpstreamError('v8_login_blocked', `A V8 bloqueou temporariamente este usuário por tentativas demais: ${text}`, 502, 'V8', { tipo: type, motivo: text })
  }
  // Auth0's rate limit answers access_denied "Global limit has been reached" with 429 (once seen with 500).
  if (res.status === 429 || /global limit/i.test(text)) throw rateLimited('V8', ROUTE, res)
  if (type === 'invalid_grant' || ((res.status === 401 || res.status === 403) && type !== 'access_denied')) {
    throw new UpstreamError('v8_credentials_rejected', `A V8 recusou o login: ${text}`, 502, 'V8', { tipo: type ?? 'invalid_grant', motivo: text })
  }
  if (type === 'access_denied' && /service not enabled|audience/i.test(text)) {
    throw new UpstreamError('v8_audience_invalid', `A V8 recusou a audience configurada (V8_AUDIENCE): ${text}`, 502, 'V8', { tipo: type, motivo: text })
  }
  if (type === 'access_denied') {
    throw new UpstreamError('v8_access_denied', `A V8 negou o acesso (confira V8_CLIENT_ID e a permissão do usuário): ${text}`, 502, 'V8', { tipo: type, motivo: text })
  }
  if (res.status >= 500) throw new UpstreamError('upstream_unavailable', `V8 (login) indisponível: ${text}`, 503, 'V8', { rota: ROUTE, motivo: text }, true)
  throw new UpstreamError('v8_login_failed', `A V8 recusou o login (HTTP ${res.status}): ${text}`, 502, 'V8', { ...(type ? { tipo: type } : {}), motivo: text })
}
