/** The results file of a batch: one row per CPF, the uploaded columns first, then outcome, reason, consult, offer and WhatsApp text. */
import type { FlowResult } from '../flow/types.js'
import { whatsappMessage } from '../message.js'
import { presencaWhatsappMessage } from '../presenca-flow/message.js'
import type { PresencaResult } from '../presenca-flow/types.js'
import { OUTCOME_PT, outcomeOf, UPSTREAM_RETRY_STEP, waitsAtBank } from './outcome.js'
import type { ExportRow } from './sheet-store.js'
import type { SheetMeta } from './types.js'

const RESULT_COLUMNS = [
  'resultado',
  'motivo',
  'codigo',
  'consulta_id',
  'valor_parcela',
  'parcelas',
  'valor_liberado',
  'taxa_mensal',
  'margem_disponivel',
  'mensagem_whatsapp',
] as const

type Value = string | number | null

const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN
  return Number.isFinite(n) ? n : null
}

const isPresenca = (r: unknown): r is PresencaResult => typeof r === 'object' && r !== null && (r as { origem?: unknown }).origem === 'PRESENCABANK'

/** The headers of the results file: the file's own columns (or `cpf` for a batch made from a list), then ours. */
export function resultHeaders (sheet: SheetMeta | null): string[] {
  const own = sheet ? sheet.colunas : ['cpf']
  // A file column named like one of ours keeps its place; ours get a suffix so both stay.
  const taken = new Set(own)
  return [...own, ...RESULT_COLUMNS.map((c) => (taken.has(c) ? `${c}_lote` : c))]
}

function reason (r: ExportRow): string {
  if (r.status === 'SUCCESS') return ''
  if (r.status === 'FAILED') return r.mensagem ?? r.resultado?.motivo_falha ?? r.erro ?? ''
  if (r.status === 'CANCELLED') return 'O lote foi cancelado antes deste CPF.'
  if (r.status === 'PENDING' && r.etapa === UPSTREAM_RETRY_STEP) return r.mensagem ? `Nova tentativa em breve: ${r.mensagem}` : 'Nova tentativa em breve.'
  if (waitsAtBank(r.status, r.etapa)) {
    const res = r.resultado
    if (isPresenca(res)) return `Aguardando o PresençaBank (${r.etapa}).`
    const st = res?.status_termo ?? res?.termo_resultado?.status
    return st ? `Aguardando a V8 (${st}).` : `Aguardando o banco (${r.etapa}).`
  }
  return ''
}

function whatsapp (r: ExportRow): string {
  const status = r.status === 'SUCCESS' ? 'SUCCESS' : r.status === 'FAILED' ? 'FAILED' : r.status === 'PENDING' && r.resultado ? 'PENDING' : null
  if (status === null) return ''
  if (isPresenca(r.resultado)) {
    return presencaWhatsappMessage({ status, resultado: r.resultado, etapa: r.etapa ?? '', code: r.erro, details: null }).mensagem
  }
  if (r.erro === 'cpf_invalido' || r.erro === 'valor_invalido' || r.erro === 'prazo_invalido') return ''
  return whatsappMessage({ status, resultado: r.resultado as FlowResult | null, code: r.erro, erro: r.mensagem, details: null }).mensagem
}

/** One row of the results file, numbers as numbers. */
export function resultRow (r: ExportRow, sheet: SheetMeta | null): Value[] {
  const own: Value[] = sheet ? sheet.colunas.map((_, i) => r.cells?.[i] ?? '') : [r.cpf]
  const res = r.resultado
  let consult: string | null = null
  let parcela: number | null = null
  let parcelas: number | null = null
  let liberado: number | null = null
  let taxa: number | null = null
  let margem: number | null = null
  if (isPresenca(res)) {
    consult = res.termo?.id ?? null
    margem = res.margem?.disponivel ?? null
  } else if (res) {
    consult = res.termo_resultado?.id ?? null
    margem = num(res.termo_resultado?.availableMarginValue)
    const sim = res.simulacao_resultado
    if (sim) {
      parcela = num(sim['valor_parcela'])
      parcelas = num(sim['numero_parcelas'])
      liberado = num(sim['valor_liberado'])
      taxa = num(sim['taxa_juros_mensal'])
    }
  }
  const outcome = outcomeOf(r.status, r.erro, r.etapa)
  // PresençaBank answers a margin, not an offer.
  const label = outcome === 'oferta' && isPresenca(res) ? 'com margem' : OUTCOME_PT[outcome]
  return [...own, label, reason(r), r.erro ?? '', consult, parcela, parcelas, liberado, taxa, margem, whatsapp(r)]
}

/** A text a spreadsheet would run as a formula (`=…`, `+…`, `@…`, `-…` not a number) is quoted with `'`. */
function inert (v: string): string {
  return /^[=+@\t\r]/.test(v) || (/^-/.test(v) && !/^-\d+([.,]\d+)?$/.test(v)) ? `'${v}` : v
}

/**
 * Brazilian Excel opens this as is: `;` between fields, decimal comma, UTF-8 with a BOM. The writers (csv-stringify,
 * write-excel-file) load on the first export, not at every tenant's start.
 */
export async function toCsv (headers: string[], rows: Iterable<Value[]>): Promise<string> {
  const { stringify } = await import('csv-stringify/sync')
  const body: string[][] = [headers]
  for (const row of rows) body.push(row.map((v) => (v === null ? '' : typeof v === 'number' ? String(v).replace('.', ',') : inert(v))))
  return '\ufeff' + stringify(body, { delimiter: ';', record_delimiter: '\r\n', quoted_match: /[\s;"]/ })
}

export async function toXlsx (headers: string[], rows: Iterable<Value[]>): Promise<Buffer> {
  const { default: writeXlsxFile } = await import('write-excel-file/node')
  const data: Array<Array<{ value: string | number; type?: StringConstructor | NumberConstructor; fontWeight?: 'bold'; wrap?: boolean } | null>> = [
    headers.map((h) => ({ value: h, fontWeight: 'bold' as const })),
  ]
  for (const row of rows) {
    data.push(row.map((v) => (v === null || v === '' ? null : typeof v === 'number' ? { value: v, type: Number } : { value: v, type: String })))
  }
  const widths = headers.map((h) => ({ width: h === 'mensagem_whatsapp' ? 60 : h === 'motivo' ? 40 : Math.min(30, Math.max(12, h.length + 2)) }))
  return writeXlsxFile(data, { sheet: 'Resultado', columns: widths, stickyRowsCount: 1 }).toBuffer()
}
