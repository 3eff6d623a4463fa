/** CLT routes: the complete flow, the WhatsApp text of its latest result, and simulations against an approved consult. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { badRequest, notFound } from '../../errors.js'
import type { FlowResultsRepository } from '../../domain/flow/results.js'
import { presencaWhatsappMessage } from '../../domain/presenca-flow/message.js'
import type { PresencaRepository } from '../../domain/presenca-flow/store.js'
import type { CltSimulations } from '../../domain/flow/simulations.js'
import type { FlowOutcome, FlowRunner } from '../../domain/flow/types.js'
import { whatsappMessage } from '../../domain/message.js'
import { proposalMessage } from '../../domain/proposals/message.js'
import type { ProposalService } from '../../domain/proposals/service.js'
import { retryAfterSeconds, suppliedOf, verdictOf } from './flow-reply.js'
import { cpfBody, fluxoBody, fluxoReply, messageBody, messageReply, pedidoOf, personalizadaBody, simulationReply, validCpf } from './clt-schemas.js'

/** Failed outcomes that are a problem with the request or the CPF's data, answered in the error shape. */
const ERROR_STATUS: Record<string, number> = {
  oportunidade_nao_encontrada: 404,
  dados_faltantes: 422,
  termo_nao_criado: 422,
}

function pendingMessage (outcome: Extract<FlowOutcome, { kind: 'pending' }>): string {
  const status = outcome.resultado.status_termo ?? 'em andamento'
  return `Consulta de margem em andamento na V8 (status ${status}). Chame novamente em ${retryAfterSeconds(outcome.retryAfterMs)} s: a mesma consulta será retomada, sem criar outra.`
}

export interface CltRouteOptions {
  flow: FlowRunner
  flowResults: FlowResultsRepository
  simulations: CltSimulations
  presencaResults: Pick<PresencaRepository, 'result'>
  /** The CPF's latest V8 proposal speaks for it once it is newer than its flow result. */
  proposals: Pick<ProposalService, 'latestOf'>
}

export const cltRoutes: FastifyPluginAsyncZod<CltRouteOptions> = async (app, { flow, flowResults, simulations, presencaResults, proposals }) => {
  const tags = ['CLT']

  /** POST /clt/fluxo-completo */
  app.post(
    '/clt/fluxo-completo',
    {
      schema: {
        tags,
        summary: 'Fluxo completo: oportunidade no Kentro → validação → termo V8 (reutilizado) → simulação → retorno ao Kentro',
        body: fluxoBody,
        response: { 200: fluxoReply, 202: fluxoReply },
      },
    },
    async (req, reply) => {
      const outcome = await flow.run({ cpf: validCpf(req.body.cpf), ...pedidoOf(req.body), ...suppliedOf(req.body.dados_cliente) })
      if (outcome.kind === 'success') {
        return reply.code(200).send({ success: true, message: 'Fluxo CLT executado com sucesso.', resultado: outcome.resultado })
      }
      if (outcome.kind === 'pending') {
        reply.header('retry-after', String(retryAfterSeconds(outcome.retryAfterMs)))
        return reply.code(202).send({ success: true, message: pendingMessage(outcome), resultado: outcome.resultado })
      }
      // A definitive refusal (rejected consult, no margin, no simulation) is a result the caller acts on, not an error.
      return reply.code(200).send({ success: false, error: outcome.code, message: outcome.erro, resultado: verdictOf(outcome, ERROR_STATUS) })
    }
  )

  /** POST /clt/mensagem-whatsapp */
  app.post(
    '/clt/mensagem-whatsapp',
    { schema: { tags, summary: 'Texto pronto para WhatsApp com o último resultado do CPF (V8 ou PresençaBank: o mais recente, ou o banco pedido)', body: messageBody, response: { 200: messageReply } } },
    async (req) => {
      const cpf = validCpf(req.body.cpf)
      const v8 = req.body.banco === 'presencabank' ? undefined : flowResults.get(cpf)
      const proposal = req.body.banco === 'presencabank' ? undefined : proposals.latestOf(cpf)
      const pb = req.body.banco === 'v8' ? undefined : presencaResults.result(cpf)
      const v8At = Math.max(v8?.updatedAt ?? -1, proposal?.updatedAt ?? -1)
      if (pb && (v8At < 0 || pb.updatedAt > v8At)) {
        const { status, mensagem } = presencaWhatsappMessage(pb)
        return { success: true, banco: 'presencabank' as const, status, mensagem, atualizado_em: new Date(pb.updatedAt).toISOString() }
      }
      if (proposal && (!v8 || proposal.updatedAt >= v8.updatedAt)) {
        const m = proposalMessage(proposal, v8?.resultado?.dados_validados?.nome)
        return { success: true, banco: 'v8' as const, ...m, proposta_id: proposal.id, atualizado_em: new Date(proposal.updatedAt).toISOString() }
      }
      if (!v8) throw notFound('resultado_nao_encontrado', 'Nenhum resultado de fluxo para este CPF; execute POST /clt/fluxo-completo (ou /clt/fluxo-completo-precencabank) primeiro.')
      const { status, mensagem } = whatsappMessage(v8)
      return { success: true, banco: 'v8' as const, status, mensagem, atualizado_em: new Date(v8.updatedAt).toISOString() }
    }
  )

  /** POST /clt/simular-personalizada */
  app.post(
    '/clt/simular-personalizada',
    { schema: { tags, summary: 'Simulação com prazo e valor da parcela (valor, valor_parcela, installment_face_value) ou valor_liberado, no termo aprovado do CPF', body: personalizadaBody, response: { 200: simulationReply } } },
    async (req) => {
      const cpf = validCpf(req.body.cpf)
      const { amount, installments } = pedidoOf(req.body)
      if (installments === undefined) throw badRequest('dados_faltantes', 'Informe o prazo (ou number_of_installments).', { campos: ['prazo'] })
      const resultado = await simulations.custom(cpf, amount, installments)
      return { success: true, message: `Simulação personalizada: ${resultado.numero_parcelas}x no termo aprovado.`, resultado }
    }
  )

  /** POST /clt/simular-cache */
  app.post(
    '/clt/simular-cache',
    { schema: { tags, summary: 'Nova simulação pela margem, no termo aprovado do CPF (prazo do cache primeiro)', body: cpfBody, response: { 200: simulationReply } } },
    async (req) => {
      const cpf = validCpf(req.body.cpf)
      const resultado = await simulations.fromCache(cpf)
      return { success: true, message: `Simulação pela margem: ${resultado.numero_parcelas}x no termo aprovado.`, resultado }
    }
  )
}
