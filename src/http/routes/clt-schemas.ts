/** zod schemas of the CLT routes: lenient on how numbers arrive (number or numeric text), strict on what they mean. */
import { z } from 'zod'
import { badRequest } from '../../errors.js'
import { flowResultSchema, type Amount } from '../../domain/flow/types.js'

export const cpfField = z.union([z.string().max(32), z.number()]).describe('CPF: 11 dígitos, com ou sem pontuação')

export { validCpf } from '../../domain/cpf.js'

const decimalText = z.string().trim().regex(/^\d{1,9}([.,]\d{1,2})?$/, 'use um número, por exemplo 5000 ou 5000.50')
const intText = z.string().trim().regex(/^\d{1,3}$/, 'use um número inteiro')
/** Numbers may arrive as numbers or numeric text ("1500,50"); the transform sits outside the union so the docs show both. */
const numeric = (text: z.ZodString) => z.union([z.number(), text]).transform((v) => (typeof v === 'number' ? v : Number(v.trim().replace(',', '.'))))

export const valorField = numeric(decimalText)
  .pipe(z.number().positive('deve ser maior que zero').max(10_000_000, 'valor alto demais'))
  .describe('Valor em reais')
export const prazoField = numeric(intText)
  .pipe(z.number().int('deve ser inteiro').min(1).max(120))
  .describe('Número de parcelas')

/**
 * The amount and installment count a caller may ask for, in every spelling older bots use. `valor` is the
 * INSTALLMENT (the older system sent it to V8 as installment_face_value); `valor_parcela` says so explicitly,
 * `valor_liberado` asks for a released amount (disbursed_amount). The same rules serve the flow, the batch and
 * simular-personalizada routes; pedidoOf() turns them into what the flow takes.
 */
export const pedidoShape = {
  valor: valorField.nullish().describe('Valor da parcela (como no sistema anterior; o mesmo que valor_parcela)'),
  valor_parcela: valorField.nullish().describe('Valor da parcela desejada (enviado à V8 como installment_face_value)'),
  valor_liberado: valorField.nullish().describe('Valor a liberar (enviado à V8 como disbursed_amount)'),
  prazo: prazoField.nullish(),
}
/** The older system's simular-personalizada took V8's own names. */
export const v8PedidoShape = {
  installment_face_value: valorField.nullish().describe('Nome da V8 para valor_parcela'),
  number_of_installments: prazoField.nullish().describe('Nome da V8 para prazo'),
}

type PedidoFields = { [K in keyof typeof pedidoShape | keyof typeof v8PedidoShape]?: number | null | undefined }

/** What the flow simulates: `amount` (an installment or a released amount) and `installments`; 400 when fields disagree. */
export function pedidoOf (b: PedidoFields): { amount?: Amount; installments?: number } {
  const one = (names: Array<keyof PedidoFields>, what: string): number | undefined => {
    const given = names.filter((n) => b[n] !== null && b[n] !== undefined)
    const values = [...new Set(given.map((n) => b[n] as number))]
    if (values.length > 1) throw badRequest('requisicao_invalida', `${given.join(' e ')} dizem ${what} diferentes; envie um só.`, { campos: given })
    return values[0]
  }
  const installment = one(['valor', 'valor_parcela', 'installment_face_value'], 'valores de parcela')
  const disbursed = one(['valor_liberado'], 'valores liberados')
  const installments = one(['prazo', 'number_of_installments'], 'prazos')
  if (installment !== undefined && disbursed !== undefined) {
    throw badRequest('requisicao_invalida', 'Envie o valor da parcela (valor ou valor_parcela) OU o valor_liberado: a V8 simula por um dos dois.', { campos: ['valor_parcela', 'valor_liberado'] })
  }
  const amount: Amount | undefined = installment !== undefined ? { kind: 'installment', value: installment } : disbursed !== undefined ? { kind: 'disbursed', value: disbursed } : undefined
  return { ...(amount ? { amount } : {}), ...(installments !== undefined ? { installments } : {}) }
}

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
  ...pedidoShape,
  dados_cliente: dadosClienteSchema.nullish(),
})
export const cpfBody = z.object({ cpf: cpfField })
export const messageBody = z.object({
  cpf: cpfField,
  banco: z.enum(['v8', 'presencabank']).optional().describe('De qual fluxo é o texto; sem ele, o resultado mais recente dos dois'),
})
export const personalizadaBody = z.object({ cpf: cpfField, ...pedidoShape, ...v8PedidoShape })

export const resultadoSchema = flowResultSchema

export const fluxoReply = z.object({
  success: z.boolean(),
  message: z.string(),
  /** Only on a definitive refusal (termo_recusado, sem_margem, ...). */
  error: z.string().optional(),
  resultado: resultadoSchema,
})

export const simulationReply = z.object({ success: z.boolean(), message: z.string(), resultado: z.record(z.string(), z.unknown()) })

export const messageReply = z.object({
  success: z.boolean(),
  banco: z.enum(['v8', 'presencabank']),
  status: z.string(),
  mensagem: z.string(),
  /** Once the CPF has a V8 proposal: its formalization link (also inside the text) and its id. */
  link_formalizacao: z.string().nullable().optional(),
  proposta_id: z.string().optional(),
  atualizado_em: z.string(),
})
