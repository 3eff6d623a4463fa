/** zod schemas of the proposal routes and the proposal as the tenant API shows it. */
import { z } from 'zod'
import type { Proposal } from '../../domain/proposals/repository.js'
import { STATUS_PT } from '../../domain/proposals/statuses.js'
import { DOCUMENT_TYPES } from '../../upstream/v8-operations.js'
import { cpfField } from './clt-schemas.js'

const text = (max: number) => z.union([z.string().max(max), z.number()]).transform(String).nullish()

export const propostaBody = z
  .object({
    cpf: cpfField,
    id_simulacao: z.string().trim().min(1).max(100).nullish().describe('Simulação a contratar; padrão: a última aprovada do CPF'),
    nome_mae: text(200),
    estado_civil: text(30).describe('solteiro, casado, divorciado ou viuvo'),
    nacionalidade: text(40).describe('padrão: DEFAULT_NATIONALITY da porta'),
    pep: z.boolean().nullish().describe('Pessoa politicamente exposta (declaração do cliente; obrigatória)'),
    email: text(254).describe('Substitui o e-mail do fluxo'),
    telefone: text(40).describe('Substitui o celular do fluxo'),
    documento: z.object({ tipo: text(10).describe('rg ou cnh'), numero: text(30), orgao_emissor: text(20).describe('ex.: SSP'), data_emissao: text(20).describe('AAAA-MM-DD') }).nullish(),
    endereco: z
      .object({ cep: text(12), logradouro: text(150), numero: text(20).describe('"S/N" quando não houver'), complemento: text(80), bairro: text(80), cidade: text(80), uf: text(4) })
      .nullish()
      .describe('O que faltar vem do CRM (Kentro)'),
    pix: z.object({ chave: text(100), tipo: text(20).describe('cpf, email, phone ou random; padrão: pelo formato da chave') }).nullish(),
    conta: z.object({ banco: text(60).describe('código de 3 dígitos'), agencia: text(10), conta: text(20), digito: text(2) }).nullish(),
  })
  .describe('Dados da proposta; o que a requisição não trouxer vem do CRM e do resultado do fluxo, nunca inventado')

const historico = z.array(z.object({ status: z.string(), em: z.string(), origem: z.string() }))

export const propostaView = z.object({
  proposta_id: z.string(),
  operacao_id: z.string().nullable(),
  cpf: z.string(),
  status: z.string(),
  status_descricao: z.string(),
  formalization_url: z.string().nullable(),
  numero_contrato: z.string().nullable(),
  id_simulacao: z.string(),
  termo_id: z.string().nullable(),
  oportunidade_id: z.string().nullable(),
  erro: z.string().nullable(),
  kentro: z.object({ etapa_status: z.string().nullable(), erro: z.string().nullable() }),
  origem: z.record(z.string(), z.string()),
  historico,
  criada_em: z.string(),
  atualizada_em: z.string(),
})

export function toView (p: Proposal): z.infer<typeof propostaView> {
  return {
    proposta_id: p.id,
    operacao_id: p.operationId,
    cpf: p.cpf,
    status: p.status,
    status_descricao: STATUS_PT[p.status] ?? p.status,
    formalization_url: p.formalizationUrl,
    numero_contrato: p.contractNumber,
    id_simulacao: p.simulationId,
    termo_id: p.consultId,
    oportunidade_id: p.opportunityId,
    erro: p.error,
    kentro: { etapa_status: p.kentroStatus, erro: p.kentroError },
    origem: p.sent.origem ?? {},
    historico: p.history,
    criada_em: new Date(p.createdAt).toISOString(),
    atualizada_em: new Date(p.updatedAt).toISOString(),
  }
}

export const propostaReply = z.object({
  success: z.literal(true),
  message: z.string(),
  proposta_id: z.string(),
  operacao_id: z.string().nullable(),
  status: z.string(),
  formalization_url: z.string().nullable(),
  proposta: propostaView,
})

export const oneReply = z.object({ success: z.literal(true), proposta: propostaView.extend({ dados_enviados: z.record(z.string(), z.unknown()).nullable() }) })

export const listQuery = z.object({
  cpf: z.string().max(32).optional(),
  status: z.string().trim().max(40).optional(),
  desde: z.string().trim().max(40).optional().describe('AAAA-MM-DD ou data/hora ISO 8601 (criada a partir de)'),
  ate: z.string().trim().max(40).optional().describe('AAAA-MM-DD ou data/hora ISO 8601 (criada até)'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
})

export const cancelBody = z.object({
  descricao: z.string().trim().min(3).max(200).describe('Motivo em texto livre (até 200 caracteres)'),
  motivo: z.string().trim().regex(/^[a-z_]+:[a-z_]+$/, 'use categoria:detalhe, ex.: invalid_data:other').optional().describe('cancel_reason da V8; padrão invalid_data:other'),
})

export const pixBody = z.object({ pix: z.object({ chave: z.string().trim().min(1).max(100), tipo: z.string().trim().max(20).optional() }) })

/** Base64 of up to 6 MB of file: the route's own body limit is 8 MB. */
export const DOCUMENT_BODY_LIMIT = 8 * 1024 * 1024
export const documentBody = z.object({
  tipo: z.enum(DOCUMENT_TYPES),
  nome_arquivo: z.string().trim().min(1).max(120).regex(/^[^/\\]+$/, 'só o nome do arquivo'),
  content_type: z.enum(['image/jpeg', 'image/png', 'application/pdf']),
  conteudo_base64: z.string().min(4).max(DOCUMENT_BODY_LIMIT).regex(/^[A-Za-z0-9+/=\s]+$/, 'base64 inválido'),
})

export const idParams = z.object({ id: z.string().trim().min(1).max(100) })
export const simpleReply = z.object({ success: z.literal(true), message: z.string(), proposta: propostaView })
