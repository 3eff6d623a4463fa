/** Spreadsheet batches: preview an upload, start it, follow it by outcome and pace, export results, run the failed rows again. */
import type { Db } from '../../db/database.js'
import { AppError, unprocessable } from '../../errors.js'
import type { Amount } from '../flow/types.js'
import { pace, type OutcomeCounts, type Pace } from './outcome.js'
import { batchNotFound, type BatchService, type CreatedBatch } from './service.js'
import { mapColumns, sheetItems, type SheetPreview } from './sheet-columns.js'
import { readSheet, type RawSheet } from './sheet-read.js'
import { resultHeaders, resultRow, toCsv, toXlsx } from './sheet-export.js'
import { SheetStore } from './sheet-store.js'
import type { Bank, Batch, NewItem, SheetMeta } from './types.js'

/** Largest file a batch may be made from: tens of thousands of rows of CSV, or an XLSX of that size. */
export const SHEET_MAX_BYTES = 5 * 1024 * 1024

/** An upload as the route received it. */
export interface Upload {
  data: Buffer
  /** A file (CSV or XLSX, told by its bytes) or pasted text (CPFs separated by lines, commas or blanks). */
  kind: 'arquivo' | 'lista'
  /** The file's name, kept for the batch list (never its path). */
  arquivo?: string
  /** The CPF column, by header name or 1-based number, when the guess is wrong. */
  colunaCpf?: string
}

export interface StartOptions {
  banco?: Bank
  amount?: Amount
  installments?: number
}

export interface SheetsDeps {
  db: Db
  batches: BatchService
  now: () => number
  /** The file size cap; rows are capped by BATCH_MAX_ITEMS (read per request). */
  maxBytes: number
  maxRows: () => number
}

export interface ReadUpload {
  preview: SheetPreview & { formato: RawSheet['format']; codificacao: RawSheet['encoding']; separador: RawSheet['delimiter'] }
  items: NewItem[]
  sheet: SheetMeta
  duplicates: number
}

export interface Progress {
  por_resultado: OutcomeCounts
  vazao_por_min: number | null
  restante_s: number | null
}

export class BatchSheets {
  readonly #d: SheetsDeps
  readonly #store: SheetStore

  constructor (deps: SheetsDeps) {
    this.#d = deps
    this.#store = new SheetStore(deps.db)
  }

  /** Parse and map the upload; 4xx in words for anything unreadable. Nothing is stored. */
  async read (u: Upload): Promise<ReadUpload> {
    const raw = await readSheet(u.data, u.kind, { maxBytes: this.#d.maxBytes, maxRows: this.#d.maxRows() })
    const map = mapColumns(raw, u.colunaCpf)
    // The column names ("Coluna N" without a header row), never the first row itself: in a headerless file that is a
    // person's CPF, name and phone.
    if ('error' in map) throw unprocessable('coluna_cpf_nao_encontrada', map.error, { colunas: map.headers.slice(0, 100) })
    const { items, preview } = sheetItems(raw, map)
    if (items.length === 0) throw unprocessable('lote_vazio', `A coluna "${map.headers[map.cpf]}" não tem nenhum CPF.`)
    const sheet: SheetMeta = {
      arquivo: u.arquivo ? u.arquivo.replace(/^.*[\\/]/, '').slice(0, 200) : null,
      formato: raw.format,
      colunas: raw.format === 'lista' ? ['cpf'] : map.headers,
      coluna_cpf: map.cpf,
      usadas: map.roles,
    }
    return {
      preview: { ...preview, formato: raw.format, codificacao: raw.encoding, separador: raw.delimiter },
      items,
      sheet,
      duplicates: preview.duplicados,
    }
  }

  async start (u: Upload, opts: StartOptions): Promise<{ created: CreatedBatch; preview: ReadUpload['preview'] }> {
    const read = await this.read(u)
    const created = await this.#d.batches.create({ origem: 'planilha', items: read.items, sheet: read.sheet, duplicates: read.duplicates, ...opts })
    return { created, preview: read.preview }
  }

  /** A new batch with the items of a finished batch that ran and failed (same bank, valor and prazo; rows kept). */
  async retryFailed (id: string): Promise<CreatedBatch> {
    const batch = this.#d.batches.get(id)
    if (!batch) throw batchNotFound(id)
    if (batch.finishedAt === null) throw new AppError('lote_em_andamento', 'O lote ainda está em andamento; repita as falhas quando ele terminar (ou cancele-o).', 409)
    const failed = this.#store.failed(id)
    if (failed.length === 0) throw unprocessable('nada_a_repetir', 'Nenhum CPF deste lote falhou ao rodar; não há o que repetir.')
    const { params, sheet } = batch
    const items: NewItem[] = failed.map((f) => ({ cpf: f.cpf, valid: true, ...(f.input ? { input: f.input } : {}), ...(f.cells ? { cells: f.cells } : {}) }))
    return this.#d.batches.create({
      origem: 'planilha',
      items,
      sheet,
      duplicates: 0,
      repete_lote: id,
      ...(params.banco ? { banco: params.banco } : {}),
      ...(params.amount ? { amount: params.amount } : {}),
      ...(params.installments !== undefined ? { installments: params.installments } : {}),
    })
  }

  /** Counts by outcome, throughput and time left. */
  progress (id: string): Progress {
    const p: Pace = pace(this.#store.paceInput(id, this.#d.now()))
    return { por_resultado: this.#store.outcomes(id), vazao_por_min: p.porMinuto, restante_s: p.restanteS }
  }

  /**
   * The results file (partial while the batch runs) of a batch the caller has just read. The writer loads before
   * the rows are read, and a purge or a delete may take the batch (and its rows, by cascade) meanwhile: a batch gone
   * by the end answers the same 404 as an unknown one, never a file of headers only. One still there after its rows
   * were read had every row when they were read.
   */
  async export (batch: Batch, format: 'csv' | 'xlsx'): Promise<Buffer> {
    const { id, sheet } = batch
    const headers = resultHeaders(sheet)
    const rows = (function * (store: SheetStore) {
      for (const r of store.rows(id)) yield resultRow(r, sheet)
    })(this.#store)
    const body = format === 'csv' ? Buffer.from(await toCsv(headers, rows), 'utf8') : await toXlsx(headers, rows)
    if (!this.#store.exists(id)) throw batchNotFound(id)
    return body
  }
}
