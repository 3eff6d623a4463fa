/**
 * PresençaBank routes, with the older system's paths and field names: the eligibility-and-margin flow, the CPF's
 * latest result, and the config page's check of the saved login.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError, notFound } from '../../errors.js'
import type { PresencaRecord } from '../../domain/presenca-flow/store.js'
import { PRESENCA_VERDICTS, presencaResultSchema } from '../../domain/presenca-flow/types.js'
import type { AppServices } from '../types.js'
import { cpfField, dadosClienteSchema, validCpf } from './clt-schemas.js'
import { retryAfterSeconds, suppliedOf, verdictOf } from './flow-reply.js'

export interface PresencaRouteOptions {
  services: Pick<AppServices, 'presencaFlow' | 'presencaResults' | 'presencaStatus' | 'presencaLogin'>
}

/** Failed outcomes that are a problem with the request's data: answered in the error shape (422 + details.campos). */
const ERROR_STATUS: Record<string, number> = { dados_faltantes: 422, telefone_em_uso: 422, termo_nao_criado: 422 }

const fluxoBody = z.object({
  cpf: cpfField,
  dados_cliente: dadosClienteSchema.pick({ nome: true, telefone: true }).nullish().describe('Nome e celular do próprio cliente, quando o CRM não tem (nunca inventados)'),
})

const fluxoReply = presencaResultSchema.extend({
  success: z.boolean(),
  message: z.string(),
  /** Only when the answer is a verdict (nao_elegivel, sem_vinculo, sem_margem, virada_de_folha). */
  error: z.string().optional(),
  status: z.enum(['CONCLUIDO', 'PROCESSANDO', 'ERRO']),
})

const statusReply = z.object({
  success: z.literal(true),
  origem: z.literal('PRESENCABANK'),
  status: z.enum(['CONCLUIDO', 'PROCESSANDO', 'ERRO']),
  etapa: z.string(),
  dados: z.object({
    cpf: z.string(),
    status: z.enum(['CONCLUIDO', 'PROCESSANDO', 'ERRO']),
    etapa: z.string(),
    ultimaAtualizacao: z.string(),
    resultado: presencaResultSchema,
    erro: z.object({ codigo: z.string(), mensagem: z.string() }).optional(),
  }),
  timestamp: z.string(),
})

const cpfParams = z.object({ cpf: z.string().max(32) })

/** The older system's three states: a verdict (even a negative one) is CONCLUIDO; a problem to fix is ERRO. */
function statusOf (r: Pick<PresencaRecord, 'status' | 'code'>): 'CONCLUIDO' | 'PROCESSANDO' | 'ERRO' {
  if (r.status === 'PENDING') return 'PROCESSANDO'
  if (r.status === 'SUCCESS' || (r.code !== null && PRESENCA_VERDICTS.has(r.code))) return 'CONCLUIDO'
  return 'ERRO'
}

function pendingMessage (etapa: string, retryAfterS: number, link: string | null): string {
  if (etapa === 'aguardando_limite') return `Aguardando a vez no limite de requisições do PresençaBank. Chame novamente em ${retryAfterS} s: a consulta continua de onde parou.`
  if (etapa === 'aguardando_assinatura') return `Termo criado; aguardando o cliente assinar pelo link${link ? ` ${link}` : ''}. Chame novamente depois: o mesmo termo é usado.`
  return `Termo assinado; o PresençaBank ainda não liberou a consulta. Chame novamente em ${retryAfterS} s: o mesmo termo é usado, nenhum outro é criado.`
}

export const presencaRoutes: FastifyPluginAsyncZod<PresencaRouteOptions> = async (app, { services }) => {
  const tags = ['PresençaBank']

  /** POST /clt/fluxo-completo-precencabank */
  app.post(
    '/clt/fluxo-completo-precencabank',
    {
      schema: {
        tags,
        summary: 'Elegibilidade e margem no PresençaBank: termo (criado uma vez e assinado) → vínculos → margem',
        body: fluxoBody,
        response: { 200: fluxoReply, 202: fluxoReply },
      },
    },
    async (req, reply) => {
      const outcome = await services.presencaFlow.run({ cpf: validCpf(req.body.cpf), ...suppliedOf(req.body.dados_cliente) })
      if (outcome.kind === 'success') {
        return reply.code(200).send({ success: true, message: 'Elegível no PresençaBank, com margem disponível.', status: 'CONCLUIDO' as const, ...outcome.resultado })
      }
      if (outcome.kind === 'pending') {
        const retryAfterS = retryAfterSeconds(outcome.retryAfterMs)
        reply.header('retry-after', String(retryAfterS))
        return reply.code(202).send({ success: true, message: pendingMessage(outcome.etapa, retryAfterS, outcome.resultado.termo?.link ?? null), status: 'PROCESSANDO' as const, ...outcome.resultado })
      }
      return reply.code(200).send({ success: false, error: outcome.code, message: outcome.erro, status: statusOf({ status: 'FAILED', code: outcome.code }), ...verdictOf(outcome, ERROR_STATUS) })
    }
  )

  /** GET /clt/status-precencabank/:cpf */
  app.get(
    '/clt/status-precencabank/:cpf',
    { schema: { tags, summary: 'Último resultado do PresençaBank para o CPF (guardado nesta porta)', params: cpfParams, response: { 200: statusReply } } },
    async (req) => {
      const cpf = validCpf(req.params.cpf)
      if (!services.presencaStatus().configured) {
        throw new AppError('presencabank_nao_configurado', 'O PresençaBank não está configurado nesta porta: defina PRESENCABANK_LOGIN e PRESENCABANK_PASSWORD em /config-v8.', 409)
      }
      const r = services.presencaResults.result(cpf)
      if (!r) throw notFound('resultado_nao_encontrado', 'Nenhuma consulta do PresençaBank para este CPF; execute POST /clt/fluxo-completo-precencabank primeiro.')
      const status = statusOf(r)
      return {
        success: true as const,
        origem: 'PRESENCABANK' as const,
        status,
        etapa: r.etapa,
        dados: {
          cpf,
          status,
          etapa: r.etapa,
          ultimaAtualizacao: new Date(r.updatedAt).toISOString(),
          resultado: r.resultado,
          ...(r.code !== null ? { erro: { codigo: r.code, mensagem: r.erro ?? '' } } : {}),
        },
        timestamp: new Date().toISOString(),
      }
    }
  )

  /** POST /config/presencabank/verificar */
  app.post(
    '/config/presencabank/verificar',
    {
      schema: {
        tags: ['Configuração'],
        summary: 'Faz login no PresençaBank com o login salvo e informa o estado (um login recusado não é repetido por 1 min)',
        response: { 200: z.object({ success: z.literal(true), message: z.string(), expires_in: z.number() }) },
      },
    },
    async () => {
      const r = await services.presencaLogin()
      return { success: true as const, message: 'O PresençaBank aceitou o login salvo.', expires_in: r.expires_in }
    }
  )
}
