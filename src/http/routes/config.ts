/** V8 login config: masked read, validated atomic save (token dropped at once), test without saving, reachability check. */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ConfigStore } from '../../config/store.js'
import type { ConfigAudit } from '../../domain/config-audit.js'
import type { AppServices } from '../types.js'
import { AppError } from '../../errors.js'
import { saveConfig } from './config-save.js'

export interface ConfigRouteOptions {
  config: ConfigStore
  audit: ConfigAudit
  services: Pick<AppServices, 'v8' | 'tokens' | 'tokenStatus'>
  /** Login tests per client per minute (POST /config/v8/testar answers whether a password is right). */
  testsPerMinute?: number
}

/** Loose on purpose (Auth0 decides what a valid user is); no blanks, one @, a dot in the domain. */
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export const v8Login = z.object({
  username: z.string().trim().max(254, 'no máximo 254 caracteres').regex(EMAIL_RE, 'informe um e-mail, ex.: nome@empresa.com.br'),
  password: z.string().min(1, 'informe a senha').max(256, 'no máximo 256 caracteres'),
})

const masked = (value: string): '***' | '' => (value === '' ? '' : '***')

const v8View = z.object({ username: z.string(), password: z.enum(['***', '']) })
const atualResponse = z.object({ success: z.literal(true), port: z.number(), config: v8View })
const salvarResponse = atualResponse.extend({ message: z.string(), alteradas: z.array(z.string()) })
const testarResponse = z.object({
  success: z.literal(true),
  message: z.string(),
  token_info: z.object({ expires_in: z.number(), token_type: z.string() }),
})
export const tokenStatusView = z.object({
  cached: z.boolean(),
  expires_in: z.number().nullable(),
  obtained_at: z.string().nullable(),
  last_error: z.string().nullable(),
})
const verificarResponse = z.object({ success: z.literal(true), message: z.string(), token: tokenStatusView })

const tooManyTests = (_req: FastifyRequest, ctx: { after: string }): AppError =>
  new AppError('muitas_tentativas', `Muitos testes de login seguidos; tente de novo em ${ctx.after}.`, 429)

export const configRoutes: FastifyPluginAsync<ConfigRouteOptions> = async (plain, opts) => {
  const app = plain.withTypeProvider<ZodTypeProvider>()
  const { config, audit, services } = opts
  // Per-route limits need the plugin; when the app-wide limiter is on it already serves route configs.
  if (!app.hasDecorator('rateLimit')) await app.register(rateLimit, { global: false })
  const limit = (max: number) => ({ rateLimit: { max, timeWindow: 60_000, errorResponseBuilder: tooManyTests } })
  const tags = ['Configuração']

  const view = () => {
    const c = config.get()
    return { success: true as const, port: c.PORT, config: { username: c.V8_USERNAME, password: masked(c.V8_PASSWORD) } }
  }

  /** GET /config/v8/atual */
  app.get('/config/v8/atual', { schema: { tags, summary: 'Login V8 em uso (senha mascarada)', response: { 200: atualResponse } } }, async () => view())

  /** POST /config/v8/salvar */
  app.post(
    '/config/v8/salvar',
    { schema: { tags, summary: 'Salva o login V8 (vale na hora; o token em cache é descartado)', body: v8Login, response: { 200: salvarResponse } } },
    async (req) => {
      const changed = saveConfig(config, audit, 'v8', req.ip, { V8_USERNAME: req.body.username, V8_PASSWORD: req.body.password })
      req.log.info({ changed }, 'v8 login saved')
      const message = changed.length > 0 ? 'Login da V8 salvo; vale a partir da próxima chamada.' : 'Nada mudou: este já é o login em uso.'
      return { ...view(), message, alteradas: changed }
    }
  )

  /** POST /config/v8/testar */
  app.post(
    '/config/v8/testar',
    {
      config: limit(opts.testsPerMinute ?? 5),
      schema: { tags, summary: 'Testa um login na V8 sem salvar nada (limitado por cliente)', body: v8Login, response: { 200: testarResponse } },
    },
    async (req) => {
      const info = await services.v8.testLogin(req.body.username, req.body.password)
      return { success: true as const, message: 'Login aceito pela V8.', token_info: { expires_in: info.expires_in, token_type: info.token_type } }
    }
  )

  /** POST /config/v8/verificar */
  app.post(
    '/config/v8/verificar',
    { config: limit(10), schema: { tags, summary: 'Obtém (ou reutiliza) o token da V8 com o login salvo e informa o estado', response: { 200: verificarResponse } } },
    async () => {
      await services.tokens.get()
      return { success: true as const, message: 'A V8 está acessível com o login salvo.', token: services.tokenStatus() }
    }
  )
}
