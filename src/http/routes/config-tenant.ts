/** The config page's overview (tenant, V8 reachability, masked Kentro/PresençaBank settings) and the integrations save. */
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { kentroConfigured, presencaConfigured, v8Configured, type ConfigKey, type TenantConfig } from '../../config/schema.js'
import type { ConfigStore } from '../../config/store.js'
import type { ConfigAudit } from '../../domain/config-audit.js'
import type { PresencaStatus } from '../../upstream/presenca.js'
import type { AppServices } from '../types.js'
import { tokenStatusView } from './config.js'
import { saveConfig } from './config-save.js'

export interface TenantConfigRouteOptions {
  config: ConfigStore
  audit: ConfigAudit
  services: Pick<AppServices, 'tokenStatus' | 'presencaStatus'>
}

const masked = (value: string): '***' | '' => (value === '' ? '' : '***')

const overview = z.object({
  success: z.literal(true),
  port: z.number(),
  tenant: z.string(),
  environment: z.string(),
  v8: z.object({ configurado: z.boolean(), username: z.string(), provider: z.string(), auth_url: z.string(), token: tokenStatusView }),
  kentro: z.object({
    configurado: z.boolean(),
    api_url: z.string(),
    api_key: z.enum(['***', '']),
    queue_id: z.string(),
    pipeline_ids: z.string(),
    stage_id: z.string(),
  }),
  presencabank: z.object({
    configurado: z.boolean(),
    url: z.string(),
    login: z.string(),
    senha: z.enum(['***', '']),
    /** What the tenant knows of it now: token, last failure, pacing. */
    estado: z.object({
      token_em_cache: z.boolean(),
      expira_em_s: z.number().nullable(),
      ultimo_erro: z.string().nullable(),
      ultimo_erro_em: z.string().nullable(),
      limite_por_minuto: z.number(),
      aguardando: z.number(),
    }),
  }),
  /** How the CLT flow fills what nobody sent (set in the config file: DEFAULT_GENDER, KENTRO_GENDER_FIELD, V8_SIMULATION_TABLE). */
  fluxo: z.object({ sexo_padrao: z.enum(['M', 'F', '']), campo_sexo_kentro: z.string(), tabela_simulacao: z.string() }),
})

const httpUrl = z
  .string()
  .trim()
  .max(500)
  .refine((u) => u === '' || (/^https?:\/\/[^\s]+$/.test(u) && URL.canParse(u)), 'informe uma URL http(s) ou deixe em branco')
/** A secret field: blank or "***" (what the page shows) keeps the stored value. */
const secret = z.string().max(500).optional()
const text = z.string().trim().max(200).optional()

const integrationsBody = z.object({
  kentro: z
    .object({
      api_url: httpUrl.optional(),
      api_key: secret,
      queue_id: z.union([z.string().trim().regex(/^\d*$/, 'apenas dígitos'), z.number().int().positive()]).optional(),
      pipeline_ids: z.string().trim().regex(/^\d+(\s*,\s*\d+)*$/, 'lista de números separados por vírgula, ex.: 1,3,4').optional(),
      stage_id: z.union([z.string().trim().regex(/^\d+$/, 'apenas dígitos'), z.number().int().positive()]).optional(),
    })
    .optional(),
  presencabank: z.object({ url: httpUrl.optional(), login: text, senha: secret }).optional(),
})

const keepSecret = (v: string | undefined): string | undefined => (v === undefined || v === '' || v === '***' ? undefined : v)

export function tenantOverview (c: TenantConfig, token: z.infer<typeof tokenStatusView>, presenca: PresencaStatus): z.infer<typeof overview> {
  return {
    success: true,
    port: c.PORT,
    tenant: c.TENANT_NAME,
    environment: c.ENVIRONMENT,
    v8: { configurado: v8Configured(c), username: c.V8_USERNAME, provider: c.V8_PROVIDER, auth_url: c.V8_AUTH_URL, token },
    kentro: {
      configurado: kentroConfigured(c),
      api_url: c.KENTRO_API_URL,
      api_key: masked(c.KENTRO_API_KEY),
      queue_id: c.KENTRO_QUEUE_ID === undefined ? '' : String(c.KENTRO_QUEUE_ID),
      pipeline_ids: c.KENTRO_PIPELINE_IDS.join(','),
      stage_id: String(c.KENTRO_STAGE_ID),
    },
    presencabank: {
      configurado: presencaConfigured(c),
      url: c.PRESENCABANK_URL,
      login: c.PRESENCABANK_LOGIN,
      senha: masked(c.PRESENCABANK_PASSWORD),
      estado: {
        token_em_cache: presenca.token_cached,
        expira_em_s: presenca.expires_in,
        ultimo_erro: presenca.last_error,
        ultimo_erro_em: presenca.last_error_at,
        limite_por_minuto: presenca.per_minute,
        aguardando: presenca.waiting,
      },
    },
    fluxo: { sexo_padrao: c.DEFAULT_GENDER, campo_sexo_kentro: c.KENTRO_GENDER_FIELD, tabela_simulacao: c.V8_SIMULATION_TABLE },
  }
}

export const tenantConfigRoutes: FastifyPluginAsync<TenantConfigRouteOptions> = async (plain, { config, audit, services }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>()
  const tags = ['Configuração']

  /** GET /config/tenant */
  app.get(
    '/config/tenant',
    { schema: { tags, summary: 'Visão geral da porta: tenant, alcance da V8 e integrações (segredos mascarados)', response: { 200: overview } } },
    async () => tenantOverview(config.get(), services.tokenStatus(), services.presencaStatus())
  )

  /** POST /config/integracoes/salvar */
  app.post(
    '/config/integracoes/salvar',
    {
      schema: {
        tags,
        summary: 'Salva as configurações do Kentro e do PresençaBank (segredo em branco ou "***" = mantém o atual)',
        body: integrationsBody,
        response: { 200: overview.extend({ message: z.string(), alteradas: z.array(z.string()) }) },
      },
    },
    async (req) => {
      const { kentro: k, presencabank: p } = req.body
      const raw: Partial<Record<ConfigKey, string | undefined>> = {
        KENTRO_API_URL: k?.api_url,
        KENTRO_API_KEY: keepSecret(k?.api_key),
        KENTRO_QUEUE_ID: k?.queue_id === undefined ? undefined : String(k.queue_id),
        KENTRO_PIPELINE_IDS: k?.pipeline_ids?.replace(/\s+/g, ''),
        KENTRO_STAGE_ID: k?.stage_id === undefined ? undefined : String(k.stage_id),
        PRESENCABANK_URL: p?.url,
        PRESENCABANK_LOGIN: p?.login,
        PRESENCABANK_PASSWORD: keepSecret(p?.senha),
      }
      const changes = Object.fromEntries(Object.entries(raw).filter((e) => e[1] !== undefined)) as Partial<Record<ConfigKey, string>>
      const changed = saveConfig(config, audit, 'integracoes', req.ip, changes)
      const message = changed.length > 0 ? 'Configurações salvas; valem a partir da próxima chamada.' : 'Nada mudou.'
      return { ...tenantOverview(config.get(), services.tokenStatus(), services.presencaStatus()), message, alteradas: changed }
    }
  )
}
