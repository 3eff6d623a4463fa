/** zod schemas of the CLT routes: lenient on how numbers arrive (number or numeric text), strict on what they mean. */
import { z } from 'zod'
import { unprocessable } from '../../errors.js'
import { isValidCpf, normalizeCpf } from '../../domain/cpf.js'

export const cpfField = z.union([z.string().max(32), z.number()]).describe('CPF: 11 dígitos, com ou sem pontuação')

/** The CPF's digits, or 422 cpf_invalido (a well-typed but wrong CPF is a business error, not a malformed request). */
export function validCpf (raw: string | number): string {
  const cpf = normalizeCpf(raw)
  if (!isValidCpf(cpf)) throw unprocessable('cpf_invalido', 'CPF inválido: informe 11 dígitos com os dígitos verificadores corretos.')
  return cpf
}

const decimalText = z.string().trim().regex(/^\d{1,9}([.,]\d{1,2})?$/, 'use um número, por exemplo 5000 ou 5000.50')
const intText = z.string().trim().regex(/^\d{1,3}$/, 'use um número inteiro')
/** Numbers may arrive as numbers or numeric text ("1500,50"); the transform sits outside the union so the docs show both. */
const numeric = (text: z.ZodString) => z.union([z.number(), text]).transform((v) => (typeof v === 'number' ? v : Number(v.trim().replace(',', '.'))))

export const valorField = numeric(decimalText)
  .pipe(z.number().positive('deve ser maior que zero').max(10_000_000, 'valor alto demais'))
  .describe('Valor a liberar, em reais')
export const prazoField = numeric(intText)
  .pipe(z.number().int('deve ser inteiro').min(1).max(120))
  .describe('Número de parcelas')

const text = (max: number) => z.string().max(max).nullish()

export const dadosClienteSchema = z
  .object({
    nome: text(200),
    email: text(254),
    telefone: z.union([z.string().max(40), z.number()]).nullish(),
    data_nascimento: text(40).describe('AAAA-MM-DD ou DD/MM/AAAA'),
    sexo: text(20).describe('M ou F'),
  })
  .describe('Dados que faltam no CRM (nunca inventados pelo serviço)')

export const fluxoBody = z.object({
  cpf: cpfField,
  valor: valorField.nullish(),
  prazo: prazoField.nullish(),
  dados_cliente: dadosClienteSchema.nullish(),
})
export const cpfBody = z.object({ cpf: cpfField })
export const personalizadaBody = z.object({ cpf: cpfField, valor: valorField, prazo: prazoField })

export const resultadoSchema = z.object({
  sucesso: z.boolean(),
  pendente: z.boolean().optional(),
  oportunidade_id: z.string().nullable(),
  dados_validados: z.object({ nome: z.string(), cpf: z.string(), telefone: z.string(), data_nascimento: z.string(), email: z.string() }).nullable(),
  termo_resultado: z
    .object({ id: z.string(), status: z.string(), description: z.string().nullable(), availableMarginValue: z.string().nullable() })
    .nullable(),
  simulacao_resultado: z.record(z.string(), z.unknown()).nullable(),
  status_termo: z.string().nullable(),
  motivo_falha: z.string().nullable(),
})

export const fluxoReply = z.object({
  success: z.boolean(),
  message: z.string(),
  /** Only on a definitive refusal (termo_recusado, sem_margem, ...). */
  error: z.string().optional(),
  resultado: resultadoSchema,
})

export const simulationReply = z.object({ success: z.boolean(), message: z.string(), resultado: z.record(z.string(), z.unknown()) })

export const messageReply = z.object({ success: z.boolean(), status: z.string(), mensagem: z.string(), atualizado_em: z.string() })
