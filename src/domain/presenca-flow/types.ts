/** The PresençaBank eligibility result (what the routes answer, batches store and the WhatsApp text reads), written once. */
import { z } from 'zod'
import { origemSchema, type FlowOutcome } from '../flow/types.js'

/** How the term's signature stands: signed by our PUT, the known 500 (usable), refused (the client signs by the link), or unknown. */
export const signatureSchema = z.enum(['pendente', 'assinado', 'erro_conhecido', 'recusada', 'incerta'])
export type Signature = z.infer<typeof signatureSchema>

export const vinculoView = z.object({
  matricula: z.string(),
  numeroInscricaoEmpregador: z.string(),
  elegivel: z.boolean().nullable(),
})

export const margemView = z.object({
  /** Available margin in reais; may be negative. */
  disponivel: z.number(),
  base: z.number().nullable(),
  total_devido: z.number().nullable(),
  matricula: z.string().nullable(),
  cnpj_empregador: z.string().nullable(),
  data_admissao: z.string().nullable(),
  data_nascimento: z.string().nullable(),
  nome_mae: z.string().nullable(),
  sexo: z.enum(['M', 'F']).nullable(),
  /** objeto or lista: which of PresençaBank's two answer forms it came in. */
  formato: z.enum(['objeto', 'lista']),
})

export const presencaResultSchema = z.object({
  sucesso: z.boolean(),
  pendente: z.boolean().optional(),
  origem: z.literal('PRESENCABANK'),
  cpf: z.string(),
  /** true: an eligible link; false: none (or CPF not in the base); null: not known yet. */
  elegivel: z.boolean().nullable(),
  etapa: z.string(),
  oportunidade_id: z.string().nullable(),
  dados_validados: z
    .object({ nome: z.string(), cpf: z.string(), telefone: z.string(), origem: z.record(z.string(), origemSchema) })
    .nullable(),
  termo: z
    .object({
      id: z.string(),
      /** The same id under PresençaBank's name (the older system's field). */
      autorizacaoId: z.string(),
      /** Where the client reads and signs the term (PresençaBank's shortUrl). */
      link: z.string().nullable(),
      shortUrl: z.string().nullable(),
      criado_em: z.string().nullable(),
      assinatura: signatureSchema,
      motivo_assinatura: z.string().nullable(),
      /** PresençaBank accepted it (the links answered). */
      autorizado: z.boolean(),
    })
    .nullable(),
  vinculos: z.array(vinculoView),
  /** The link whose margin is reported. */
  vinculo: vinculoView.nullable(),
  margem: margemView.nullable(),
  motivo_falha: z.string().nullable(),
})
export type PresencaResult = z.infer<typeof presencaResultSchema>
export type PresencaOutcome = FlowOutcome<PresencaResult>

/** Business endings that are a result for the caller (200 success:false), not an error of the request. */
export const PRESENCA_VERDICTS = new Set(['nao_elegivel', 'sem_vinculo', 'sem_margem', 'virada_de_folha'])
