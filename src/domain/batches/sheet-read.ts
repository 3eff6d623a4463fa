/** Read an uploaded spreadsheet (CSV in UTF-8/UTF-16/Latin-1 with `;`, `,` or tab, XLSX, or a pasted list) into rows of text. */
import { AppError, bytesInWords } from '../../errors.js'

export type SheetFormat = 'csv' | 'xlsx' | 'lista'
export type SheetEncoding = 'utf-8' | 'utf-16le' | 'latin-1'

export interface SheetLimits {
  /** Bytes of the uploaded file. */
  maxBytes: number
  /** Data rows (blank rows not counted). */
  maxRows: number
  /** Bytes an XLSX may unpack to (its zip directory's word): a small file must not expand into gigabytes. */
  maxUnpackedBytes?: number
}

export interface RawSheet {
  format: SheetFormat
  encoding: SheetEncoding | null
  delimiter: string | null
  /** Every non-blank row, header included, cells as trimmed text. */
  rows: string[][]
}

const MAX_COLUMNS = 100
const MAX_CELL = 500
const DEFAULT_UNPACKED = 64 * 1024 * 1024

const ZIP = [0x50, 0x4b, 0x03, 0x04]
const OLE = [0xd0, 0xcf, 0x11, 0xe0]
const startsWith = (b: Uint8Array, sig: number[]): boolean => sig.every((x, i) => b[i] === x)

const invalid = (code: string, message: string, details?: Record<string, unknown>): AppError => new AppError(code, message, 422, details)

/**
 * Bytes → rows. `kind` says how the client sent it: `lista` is pasted text (CPFs separated by lines, commas,
 * semicolons or blanks); anything else is a file whose format is told by its first bytes, not by its name.
 */
export async function readSheet (data: Buffer, kind: 'arquivo' | 'lista', limits: SheetLimits): Promise<RawSheet> {
  if (data.length > limits.maxBytes) {
    throw new AppError('arquivo_grande_demais', `O arquivo tem ${bytesInWords(data.length)}; o máximo é ${bytesInWords(limits.maxBytes)}.`, 413, { maximo_bytes: limits.maxBytes })
  }
  if (data.length === 0) throw invalid('arquivo_vazio', 'O arquivo está vazio.')
  let sheet: RawSheet
  if (kind === 'lista') {
    const { text, encoding } = decode(data)
    const rows = text.split(/[\s,;]+/).filter(Boolean).map((c) => [c])
    sheet = { format: 'lista', encoding, delimiter: null, rows }
  } else if (startsWith(data, ZIP)) {
    sheet = { format: 'xlsx', encoding: null, delimiter: null, rows: await readXlsx(data, limits.maxUnpackedBytes ?? DEFAULT_UNPACKED) }
  } else if (startsWith(data, OLE)) {
    throw new AppError('formato_nao_suportado', 'Planilhas .xls (Excel 97–2003) não são lidas: salve como .xlsx ou .csv e envie de novo.', 415)
  } else {
    const { text, encoding } = decode(data)
    if (text.slice(0, 4096).includes('\u0000')) throw new AppError('formato_nao_suportado', 'O arquivo não é um CSV nem um XLSX.', 415)
    const delimiter = detectDelimiter(text)
    sheet = { format: 'csv', encoding, delimiter, rows: await readCsv(text, delimiter, limits.maxRows) }
  }
  const dataRows = sheet.rows.length
  if (dataRows === 0) throw invalid('arquivo_vazio', 'O arquivo não tem nenhuma linha com dados.')
  // One row may be the header: allow it on top of the limit.
  if (dataRows > limits.maxRows + 1) {
    throw invalid('linhas_demais', `O arquivo tem mais de ${limits.maxRows} linhas; o máximo por lote é ${limits.maxRows}. Divida a planilha em partes.`, { maximo: limits.maxRows })
  }
  const wide = sheet.rows.findIndex((r) => r.length > MAX_COLUMNS)
  if (wide >= 0) throw invalid('colunas_demais', `A linha ${wide + 1} tem ${sheet.rows[wide]!.length} colunas; o máximo é ${MAX_COLUMNS}.`, { maximo: MAX_COLUMNS, linha: wide + 1 })
  return sheet
}

/** UTF-8 when the bytes are valid UTF-8 (BOM or not), UTF-16 with its BOM, else Latin-1 (Windows-1252, as Excel in Brazil saves CSV). */
export function decode (data: Uint8Array): { text: string; encoding: SheetEncoding } {
  if (data[0] === 0xff && data[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(data.subarray(2)), encoding: 'utf-16le' }
  const body = data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? data.subarray(3) : data
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(body), encoding: 'utf-8' }
  } catch {
    return { text: new TextDecoder('windows-1252').decode(body), encoding: 'latin-1' }
  }
}

/** The separator used most consistently over the first lines (outside quotes); `;` wins a tie, as Brazilian Excel writes it. */
export function detectDelimiter (text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '').slice(0, 20)
  let best = ','
  let bestScore = 0
  for (const d of [';', ',', '\t', '|']) {
    const counts = lines.map((l) => l.replace(/"[^"]*"/g, '').split(d).length - 1)
    const lines1 = counts.filter((c) => c > 0).length
    if (lines1 === 0) continue
    // Lines that have it, weighted by how many agree with the first line's count.
    const score = lines1 + counts.filter((c) => c === counts[0]).length
    if (score > bestScore) {
      best = d
      bestScore = score
    }
  }
  return best
}

function cell (v: unknown): string {
  const s = v === null || v === undefined ? '' : v instanceof Date ? isoDate(v) : String(v)
  return s.trim().slice(0, MAX_CELL)
}

function isoDate (d: Date): string {
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10)
}

function nonBlank (rows: unknown[][]): string[][] {
  const out: string[][] = []
  for (const r of rows) {
    const cells = r.map(cell)
    // Trailing empty cells (a spreadsheet's formatted but empty columns) say nothing.
    while (cells.length > 0 && cells[cells.length - 1] === '') cells.pop()
    if (cells.length > 0) out.push(cells)
  }
  return out
}

// The spreadsheet readers (csv-parse, fflate, read-excel-file: ~3 MB of heap and their code) load on the first
// upload, not in every tenant at start: most tenants never receive a spreadsheet (issue 16, idle memory).
async function readCsv (text: string, delimiter: string, maxRows: number): Promise<string[][]> {
  const { parse: parseCsv } = await import('csv-parse/sync')
  try {
    const records = parseCsv(text, {
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      trim: true,
      bom: true,
      // Stop early on a huge file: past the limit the count is all that matters.
      to_line: maxRows + 50,
      max_record_size: 64 * 1024,
    }) as string[][]
    return nonBlank(records)
  } catch (err) {
    const e = err as { code?: string; lines?: number; message?: string }
    throw invalid('csv_invalido', `O CSV não pôde ser lido${e.lines ? ` (linha ${e.lines})` : ''}: ${e.code === 'CSV_QUOTE_NOT_CLOSED' ? 'uma aspa aberta não foi fechada' : 'formato inesperado'}.`)
  }
}

async function readXlsx (data: Buffer, maxUnpacked: number): Promise<string[][]> {
  const [{ unzipSync }, { default: readXlsxFile }] = await Promise.all([import('fflate'), import('read-excel-file/node')])
  let unpacked = 0
  try {
    // The zip directory alone (filter returns false: nothing is inflated here).
    unzipSync(data, { filter: (f) => { unpacked += f.originalSize; return false } })
  } catch {
    throw invalid('xlsx_invalido', 'O arquivo parece um XLSX, mas está corrompido (zip ilegível).')
  }
  if (unpacked > maxUnpacked) {
    throw new AppError('arquivo_grande_demais', `O XLSX se expande para ${bytesInWords(unpacked)}; o máximo é ${bytesInWords(maxUnpacked)}.`, 413, { maximo_bytes: maxUnpacked })
  }
  try {
    const sheets = await readXlsxFile(data)
    const first = sheets.find((s) => s.data.some((r) => r.some((c) => c !== null && c !== ''))) ?? sheets[0]
    return nonBlank((first?.data ?? []) as unknown[][])
  } catch {
    throw invalid('xlsx_invalido', 'O arquivo não é uma planilha XLSX legível; abra no Excel e salve de novo como .xlsx ou .csv.')
  }
}
