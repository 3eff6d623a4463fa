/**
 * PresençaBank answers as public callers saw them (test/fixtures/upstream/presenca): login, term, vínculos, the margin
 * as an OBJECT or an ARRAY with other field names, and the error bodies (errors[] or a map of lists, messages[],
 * message, result, detail/title, errorCodes[]) turned into one reason and a classification.
 */
import { z } from 'zod'

/** Text or number → string as received (a matrícula may be zero-padded, an employer id an 8-digit CNPJ root). */
const idText = z.union([z.string(), z.number()]).transform(String)

export const loginSchema = z.object({
  token: z.string().min(1),
  // ISO 8601, possibly without an offset (then UTC); absent in some answers: the token lives until a 401.
  expireAt: z.string().nullish(),
})

export const termSchema = z.object({
  autorizacaoId: idText.pipe(z.string().min(1)),
  shortUrl: z.string().nullish(),
})

export const vinculoSchema = z
  .object({
    matricula: idText,
    numeroInscricaoEmpregador: idText,
    elegivel: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).nullish(),
    cpf: idText.nullish(),
  })
  .passthrough()
export type Vinculo = {
  matricula: string
  numeroInscricaoEmpregador: string
  /** null when PresençaBank did not say. */
  elegivel: boolean | null
}

/** Text as a number: "833.43", "833,43", "1.234,56" or "1,234.56"; NaN when it is none of them. */
export function textAmount (raw: string): number {
  const s = raw.trim()
  if (/^-?\d+([.,]\d+)?$/.test(s)) return Number(s.replace(',', '.'))
  if (/^-?\d{1,3}(\.\d{3})+(,\d+)?$/.test(s)) return Number(s.replace(/\./g, '').replace(',', '.'))
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) return Number(s.replace(/,/g, ''))
  return NaN
}

/** A number as JSON or text (callers parseFloat it); null when absent. */
const amount = z
  .union([z.number(), z.string().transform(textAmount).pipe(z.number()), z.null()])
  .optional()
const text = z.union([z.string(), z.number()]).transform(String).nullish()

/** Both vocabularies in one item: the object form's names, then the array form's (AP's) names. */
const marginItem = z
  .object({
    valorMargemDisponivel: amount,
    valorMargemAvaliavel: amount,
    valorMargem: amount,
    valorMargemBase: amount,
    valorBaseMargem: amount,
    valorTotalDevido: amount,
    valorTotalVencimentos: amount,
    registroEmpregaticio: text,
    matricula: text,
    cnpjEmpregador: text,
    numeroInscricaoEmpregador: text,
    dataAdmissao: text,
    dataNascimento: text,
    nomeMae: text,
    sexo: text,
  })
  .passthrough()
  .refine((m) => firstNumber(m.valorMargemDisponivel, m.valorMargemAvaliavel, m.valorMargem) !== null, {
    message: 'no margin field (valorMargemDisponivel, valorMargemAvaliavel or valorMargem)',
  })

export const marginAnswer = z.union([marginItem, z.array(z.unknown()).min(1)])

export interface Margem {
  /** Available margin; may be negative. */
  disponivel: number
  base: number | null
  totalDevido: number | null
  matricula: string | null
  cnpjEmpregador: string | null
  /** YYYY-MM-DD as sent. */
  dataAdmissao: string | null
  dataNascimento: string | null
  nomeMae: string | null
  /** M/F from "Masculino"/"Feminino" (or M/F). */
  sexo: 'M' | 'F' | null
  /** Which form PresençaBank answered with. */
  formato: 'objeto' | 'lista'
}

function firstNumber (...values: Array<number | null | undefined>): number | null {
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v)) return v
  return null
}

function firstText (...values: Array<string | null | undefined>): string | null {
  for (const v of values) if (typeof v === 'string' && v.trim() !== '') return v.trim()
  return null
}

function sexOf (v: string | null): 'M' | 'F' | null {
  const s = (v ?? '').trim().toUpperCase()
  if (s === 'M' || s.startsWith('MASC')) return 'M'
  if (s === 'F' || s.startsWith('FEM')) return 'F'
  return null
}

/** The margin of one parsed item, whichever vocabulary it used. */
export function toMargem (m: z.output<typeof marginItem>, formato: Margem['formato']): Margem {
  return {
    disponivel: firstNumber(m.valorMargemDisponivel, m.valorMargemAvaliavel, m.valorMargem) ?? 0,
    base: firstNumber(m.valorMargemBase, m.valorBaseMargem),
    totalDevido: firstNumber(m.valorTotalDevido, m.valorTotalVencimentos),
    matricula: firstText(m.registroEmpregaticio, m.matricula),
    cnpjEmpregador: firstText(m.cnpjEmpregador, m.numeroInscricaoEmpregador),
    dataAdmissao: firstText(m.dataAdmissao),
    dataNascimento: firstText(m.dataNascimento),
    nomeMae: firstText(m.nomeMae),
    sexo: sexOf(firstText(m.sexo)),
    formato,
  }
}

export { marginItem }

/**
 * A margin answer that reads all zero with no admission date: one caller saw it "when their session has a problem"
 * (and it is also what the ARRAY form looks like read as an object). Not a real margin: asked again later.
 */
export function isZeroedGlitch (m: Margem): boolean {
  return m.disponivel === 0 && (m.base ?? 0) === 0 && (m.totalDevido ?? 0) === 0 && m.dataAdmissao === null
}

const TEXT_KEYS = ['messages', 'message', 'mensagem', 'result', 'detail', 'description', 'descricao', 'error', 'title']
const CODE_KEYS = ['errorCodes', 'code', 'codigo', 'errorCode']

/**
 * Every human-readable text and code an error body carries: errors/erros as a list or a map of lists, the text keys
 * callers read, codes in errorCodes[]/code, and the same keys inside error objects of a list (`errors:[{code, message}]`).
 */
export function errorTexts (body: unknown): { texts: string[]; codes: string[] } {
  const texts: string[] = []
  const codes: string[] = []
  const add = (v: unknown, into: string[], depth: number): void => {
    if (typeof v === 'string' && v.trim() !== '') into.push(v.trim())
    else if (Array.isArray(v)) for (const x of v) add(x, into, depth)
    else if (v && typeof v === 'object' && depth < 3) collect(v as Record<string, unknown>, depth + 1)
  }
  const collect = (b: Record<string, unknown>, depth: number): void => {
    for (const key of ['errors', 'erros']) {
      const v = b[key]
      if (v && typeof v === 'object' && !Array.isArray(v)) for (const list of Object.values(v)) add(list, texts, depth)
      else add(v, texts, depth)
    }
    for (const key of TEXT_KEYS) add(b[key], texts, depth)
    for (const key of CODE_KEYS) add(b[key], codes, depth)
  }
  if (typeof body === 'string') add(body, texts, 0)
  else if (body && typeof body === 'object' && !Array.isArray(body)) collect(body as Record<string, unknown>, 0)
  return { texts: [...new Set(texts)], codes: [...new Set(codes)] }
}

/** One line for an operator: the texts joined, else the codes, else `fallback`. */
export function reasonText (body: unknown, fallback: string): string {
  const { texts, codes } = errorTexts(body)
  const line = texts.length > 0 ? texts.join(' | ') : codes.length > 0 ? codes.join(', ') : fallback
  return line.slice(0, 300)
}

export type PresencaRefusal =
  | 'termo_nao_autorizado'
  | 'cpf_nao_encontrado'
  | 'virada_de_folha'
  | 'limite_de_consulta'
  | 'telefone_em_uso'
  | 'margem_insuficiente'

const fold = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()

/** What a refusal means, from its status and the texts/codes callers match on. */
export function classify (status: number, body: unknown): PresencaRefusal | undefined {
  const { texts, codes } = errorTexts(body)
  // Codes may sit anywhere in the body (one caller finds them by stringifying it): take every UPPER_SNAKE token from
  // the whole body, but match words only in the texts callers read, so an unrelated field cannot change the verdict.
  const raw = typeof body === 'string' ? body : JSON.stringify(body ?? '')
  const anywhere = raw.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g) ?? []
  const all = fold([...texts, ...codes, ...anywhere].join(' | '))
  if (all.includes('telefone ja utilizado')) return 'telefone_em_uso'
  if (all.includes('termo_invalido_ou_ausente') || all.includes('autorizacao valida') || all.includes('termo valido') || /\btermo\b.*\b(nao encontrado|invalido|ausente|nao assinado|expirad)/.test(all) || /\bautorizacao\b.*\b(invalida|ausente|expirad|nao encontrada)/.test(all)) {
    return 'termo_nao_autorizado'
  }
  if (all.includes('virada de competencia') || all.includes('virada de folha')) return 'virada_de_folha'
  if (all.includes('limite de consulta')) return 'limite_de_consulta'
  if (all.includes('cpf nao encontrado') || all.includes('cpftrabalhador invalido') || all.includes('linha de competencia')) return 'cpf_nao_encontrado'
  if (all.includes('margem_ou_valor_insuficiente') || all.includes('margem insuficiente')) return 'margem_insuficiente'
  // A bare 403 on the data calls is the "no signed term" answer one caller sees (or a login without that profile).
  if (status === 403) return 'termo_nao_autorizado'
  return undefined
}
