/** Proposal routes: create from the CPF's approved simulation, read, list, cancel, and V8's pendency actions; GET /v8/bancos. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ProposalService } from '../../domain/proposals/service.js'
import { STATUS_PT } from '../../domain/proposals/statuses.js'
import { badRequest } from '../../errors.js'
import type { V8Operations } from '../../upstream/v8-operations.js'
import { validCpf } from './clt-schemas.js'
import {
  cancelBody,
  DOCUMENT_BODY_LIMIT,
  documentBody,
  idParams,
  listQuery,
  oneReply,
  pixBody,
  propostaBody,
  propostaReply,
  propostaView,
  simpleReply,
  toView,
} from './proposals-schemas.js'
import { parseDateParam } from './v8.js'

export interface ProposalRouteOptions {
  proposals: ProposalService
  ops: Pick<V8Operations, 'banks'>
}

export const proposalRoutes: FastifyPluginAsyncZod<ProposalRouteOptions> = async (app, { proposals, ops }) => {
  const tags = ['Propostas']

  /** POST /clt/proposta */
  app.post(
    '/clt/proposta',
    {
      schema: {
        tags,
        summary: 'Cria a proposta (operação V8) da simulação aprovada do CPF e devolve o link de formalização',
        body: propostaBody,
        response: { 200: propostaReply, 201: propostaReply },
      },
    },
    async (req, reply) => {
      const cpf = validCpf(req.body.cpf)
      const { proposal, created } = await proposals.create(cpf, req.body)
      const view = toView(proposal)
      const message = created
        ? proposal.formalizationUrl
          ? 'Proposta criada; envie o link de formalização ao cliente.'
          : 'Proposta criada; o link de formalização chega assim que a V8 gerar o contrato.'
        : `Este CPF já tem esta proposta (${STATUS_PT[proposal.status] ?? proposal.status}); nada foi enviado de novo.`
      return reply.code(created ? 201 : 200).send({ success: true as const, message, proposta_id: view.proposta_id, operacao_id: view.operacao_id, status: view.status, formalization_url: view.formalization_url, proposta: view })
    }
  )

  /** GET /clt/propostas/:id */
  app.get(
    '/clt/propostas/:id',
    {
      schema: {
        tags,
        summary: 'Uma proposta (proposta_id ou id da operação); atualizar=true lê o estado na V8 antes',
        params: idParams,
        querystring: z.object({ atualizar: z.enum(['true', 'false']).default('false') }),
        response: { 200: oneReply },
      },
    },
    async (req) => {
      const p = req.query.atualizar === 'true' ? await proposals.refresh(proposals.get(req.params.id).id) : proposals.get(req.params.id)
      return { success: true as const, proposta: { ...toView(p), dados_enviados: (p.sent.borrower as unknown as Record<string, unknown>) ?? null } }
    }
  )

  /** GET /clt/propostas */
  app.get(
    '/clt/propostas',
    {
      schema: {
        tags,
        summary: 'Propostas da porta, mais novas primeiro, por CPF, status e período de criação',
        querystring: listQuery,
        response: { 200: z.object({ success: z.literal(true), total: z.number(), pagina: z.number(), limite: z.number(), propostas: z.array(propostaView) }) },
      },
    },
    async (req) => {
      const q = req.query
      const from = q.desde !== undefined ? parseDateParam(q.desde, 'start') : undefined
      const to = q.ate !== undefined ? parseDateParam(q.ate, 'end') : undefined
      if (from === null || to === null) throw badRequest('data_invalida', 'desde/ate inválidos: use AAAA-MM-DD ou data/hora ISO 8601.')
      const { total, items } = proposals.list({ cpf: q.cpf !== undefined ? validCpf(q.cpf) : undefined, status: q.status, from, to, limit: q.limit, offset: (q.page - 1) * q.limit })
      return { success: true as const, total, pagina: q.page, limite: q.limit, propostas: items.map(toView) }
    }
  )

  /** POST /clt/propostas/:id/cancelar */
  app.post(
    '/clt/propostas/:id/cancelar',
    { schema: { tags, summary: 'Pede à V8 o cancelamento (fica awaiting_cancel até a V8 confirmar)', params: idParams, body: cancelBody, response: { 200: simpleReply } } },
    async (req) => {
      const p = await proposals.cancel(req.params.id, { descricao: req.body.descricao, motivo: req.body.motivo })
      return { success: true as const, message: 'Cancelamento pedido à V8.', proposta: toView(p) }
    }
  )

  /** POST /clt/propostas/:id/dados-bancarios */
  app.post(
    '/clt/propostas/:id/dados-bancarios',
    { schema: { tags, summary: 'Reapresenta a chave PIX de uma proposta com pendência (V8: pendency/payment-data)', params: idParams, body: pixBody, response: { 200: simpleReply } } },
    async (req) => {
      const p = await proposals.paymentData(req.params.id, { chave: req.body.pix.chave, tipo: req.body.pix.tipo })
      return { success: true as const, message: 'Dados bancários enviados à V8; o novo status chega por webhook.', proposta: toView(p) }
    }
  )

  /** POST /clt/propostas/:id/documentos */
  app.post(
    '/clt/propostas/:id/documentos',
    {
      bodyLimit: DOCUMENT_BODY_LIMIT,
      schema: { tags, summary: 'Envia um documento à V8 (arquivo em base64, até ~6 MB)', params: idParams, body: documentBody, response: { 200: simpleReply } },
    },
    async (req) => {
      const data = Buffer.from(req.body.conteudo_base64.replace(/\s+/g, ''), 'base64')
      if (data.length === 0) throw badRequest('arquivo_vazio', 'O arquivo está vazio.')
      const p = await proposals.uploadDocument(req.params.id, { type: req.body.tipo, fileName: req.body.nome_arquivo, contentType: req.body.content_type, data })
      return { success: true as const, message: 'Documento enviado à V8. Depois de enviar todos, chame /reapresentar.', proposta: toView(p) }
    }
  )

  /** POST /clt/propostas/:id/reapresentar */
  app.post(
    '/clt/propostas/:id/reapresentar',
    { schema: { tags, summary: 'Reapresenta a proposta à análise depois de resolver as pendências (V8: pendency/presentation)', params: idParams, response: { 200: simpleReply } } },
    async (req) => {
      const p = await proposals.present(req.params.id)
      return { success: true as const, message: 'Proposta reapresentada à V8.', proposta: toView(p) }
    }
  )

  /** GET /v8/bancos */
  app.get(
    '/v8/bancos',
    {
      schema: {
        tags: ['V8'],
        summary: 'Bancos que a V8 aceita para TED (código e id)',
        response: { 200: z.object({ success: z.literal(true), bancos: z.array(z.object({ id: z.string(), codigo: z.string(), nome: z.string().nullable() })) }) },
      },
    },
    async () => ({ success: true as const, bancos: (await ops.banks()).map((b) => ({ id: b.id, codigo: b.code, nome: b.name })) })
  )
}
