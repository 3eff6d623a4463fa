/** Which column of a spreadsheet holds the CPF and which hold data the flow can use; rows → batch items with their own input. */
import { maskCpf } from '../../log/mask.js'
import type { Field } from '../borrower.js'
import { isValidCpf, normalizeCpf } from '../cpf.js'
import { intake } from './intake.js'
import type { RawSheet } from './sheet-read.js'
import type { ItemInput, NewItem } from './types.js'

/** Optional columns the flow can use, as the API names them. */
export type Role = 'nome' | 'telefone' | 'data_nascimento' | 'email' | 'valor' | 'prazo'
const ROLES: readonly Role[] = ['nome', 'telefone', 'data_nascimento', 'email', 'valor', 'prazo']

/** How a header is written, folded: lower case, no accents, runs of other characters → `_`. */
function fold (s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '')
}

const CPF_HEADER = /^(cpf|documento|doc|nr_cpf|num_cpf|numero_cpf|cpf_cliente|cpf_do_cliente|cpf_cnpj|document|documentnumber|borrowerdocumentnumber)$|(^|_)cpf($|_)/
const ROLE_HEADERS: Record<Role, RegExp> = {
  nome: /^(nome|nome_completo|nome_cliente|cliente|nome_do_cliente|name|razao_social)$/,
  telefone: /^(telefone|celular|fone|whatsapp|whats|phone|tel|telefone_celular|celular_whatsapp|ddd_celular|mainphone|telefone_1|celular_1)$/,
  data_nascimento: /^(data_nascimento|data_de_nascimento|nascimento|dt_nasc|dt_nascimento|data_nasc|birthdate|birth_date|aniversario)$/,
  email: /^(email|e_mail|mail|correio_eletronico)$/,
  valor: /^(valor|valor_parcela|parcela|valor_da_parcela|installment_value)$/,
  prazo: /^(prazo|parcelas|qtd_parcelas|quantidade_parcelas|numero_parcelas|n_parcelas|prazo_meses)$/,
}

export interface ColumnMap {
  /** The header row as written, or `Coluna 1…n` when the file has none. */
  headers: string[]
  hasHeader: boolean
  /** 0-based index of the CPF column. */
  cpf: number
  /** How the CPF column was chosen: by its name, or as the column with the most valid CPFs. */
  cpfBy: 'nome' | 'conteudo' | 'escolhida'
  roles: Partial<Record<Role, number>>
}

/** Whether a cell looks like a CPF (9–11 digits once formatting is gone). */
const cpfLike = (v: string): boolean => /^\d{9,11}$/.test(normalizeCpf(v))

function bestCpfColumn (rows: string[][], width: number): number | undefined {
  let best: number | undefined
  let bestCount = 0
  for (let c = 0; c < width; c++) {
    const n = rows.reduce((acc, r) => acc + (r[c] !== undefined && isValidCpf(normalizeCpf(r[c]!)) ? 1 : 0), 0)
    if (n > bestCount) {
      best = c
      bestCount = n
    }
  }
  return best
}

/**
 * Read the header (a first row without CPF-like cells and with letters in it), then the CPF column: the one asked
 * for (`escolha`: a header name or a 1-based number), else a CPF-named header, else the one with most valid CPFs.
 */
export function mapColumns (sheet: RawSheet, escolha?: string): ColumnMap | { error: string; headers: string[] } {
  const first = sheet.rows[0] ?? []
  const hasHeader = sheet.format !== 'lista' && first.some((c) => /\p{L}/u.test(c)) && !first.some(cpfLike)
  const data = hasHeader ? sheet.rows.slice(1) : sheet.rows
  const width = Math.max(first.length, ...data.slice(0, 200).map((r) => r.length))
  const headers = Array.from({ length: width }, (_, i) => (hasHeader && first[i] ? first[i]! : `Coluna ${i + 1}`))
  const folded = headers.map(fold)

  let cpf: number | undefined
  let cpfBy: ColumnMap['cpfBy'] = 'nome'
  if (escolha !== undefined && escolha.trim() !== '') {
    const asked = escolha.trim()
    const n = /^\d+$/.test(asked) ? Number(asked) - 1 : folded.indexOf(fold(asked))
    if (n < 0 || n >= width) return { error: `A coluna "${asked}" não existe no arquivo (colunas: ${headers.join(', ')}).`, headers }
    cpf = n
    cpfBy = 'escolhida'
  } else {
    cpf = hasHeader ? folded.findIndex((h) => CPF_HEADER.test(h)) : -1
    if (cpf < 0) {
      cpf = bestCpfColumn(data, width)
      cpfBy = 'conteudo'
    }
  }
  if (cpf === undefined) return { error: 'Nenhuma coluna do arquivo tem CPFs válidos; confira o arquivo ou indique a coluna do CPF.', headers }
  const roles: Partial<Record<Role, number>> = {}
  if (hasHeader) {
    for (const role of ROLES) {
      const i = folded.findIndex((h, idx) => idx !== cpf && ROLE_HEADERS[role].test(h))
      if (i >= 0) roles[role] = i
    }
  }
  return { headers, hasHeader, cpf, cpfBy, roles }
}

/** What one row asks of the flow beyond the batch's own parameters. */
export type RowInput = ItemInput

/** A row turned into a batch item: its CPF, its own input, its cells (kept for the results file), or why it cannot run. */
export interface SheetItem extends NewItem {
  /** The row's cells as read (the results file repeats them). */
  cells: string[]
}

export interface SheetPreview {
  linhas: number
  validos: number
  invalidos: number
  duplicados: number
  /** Rows whose valor or prazo cannot be used (recorded as failed). */
  com_problema: number
  coluna_cpf: { indice: number; nome: string; escolhida_por: ColumnMap['cpfBy'] }
  colunas_usadas: Partial<Record<Role, string>>
  colunas: string[]
  tem_cabecalho: boolean
  /** A few rows to show, CPFs masked. */
  exemplos: Array<{ linha: number; cpf: string; situacao: 'valido' | 'invalido' | 'duplicado' | 'problema'; detalhe?: string }>
}

function valor (raw: string): number | undefined {
  const s = raw.replace(/^r\$\s*/i, '').replace(/\s/g, '')
  // 1.500,50 / 1500,50 / 1500.50 / 1500
  const br = /^\d{1,3}(\.\d{3})+(,\d{1,2})?$/.test(s) ? s.replace(/\./g, '').replace(',', '.') : s.replace(',', '.')
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(br)) return undefined
  const n = Number(br)
  return n > 0 && n <= 10_000_000 ? n : undefined
}

function prazo (raw: string): number | undefined {
  const m = /^(\d{1,3})\s*(x|meses|parcelas)?$/i.exec(raw.trim())
  const n = m ? Number(m[1]) : NaN
  return Number.isInteger(n) && n >= 1 && n <= 120 ? n : undefined
}

/** Masked for the preview as in the logs (the page shows which rows; the full CPF stays in the file the person has). */
function maskForPreview (cpf: string): string {
  return /^\d{11}$/.test(cpf) ? maskCpf(cpf) : cpf.length > 4 ? `${cpf.slice(0, 2)}…` : cpf
}

/** Rows → items by the one CPF rule (intake.ts), blank CPF cells left out; each row's own valor/prazo/data read. */
export function sheetItems (sheet: RawSheet, map: ColumnMap): { items: SheetItem[]; preview: SheetPreview } {
  const rows = map.hasHeader ? sheet.rows.slice(1) : sheet.rows
  const exemplos: SheetPreview['exemplos'] = []
  /** The row's number as a spreadsheet shows it (the header is row 1). */
  const lineOf = (index: number): number => index + 1 + (map.hasHeader ? 1 : 0)
  const note = (index: number, cpf: string, situacao: SheetPreview['exemplos'][number]['situacao'], detalhe?: string): void => {
    if (exemplos.length < 8 || (situacao !== 'valido' && exemplos.filter((e) => e.situacao !== 'valido').length < 8)) {
      exemplos.push({ linha: lineOf(index), cpf: maskForPreview(cpf), situacao, ...(detalhe ? { detalhe } : {}) })
    }
  }
  const { items, duplicates } = intake(rows, {
    cpfOf: (cells) => cells[map.cpf] ?? '',
    skipBlank: true,
    onRepeat: (cpf, index) => note(index, cpf, 'duplicado'),
    item: (base, cells, index): SheetItem => {
      const item: SheetItem = { ...base, cells }
      if (!base.valid) {
        note(index, base.cpf, 'invalido')
        return item
      }
      const input = rowInput(cells, map)
      if ('problem' in input) {
        item.problem = input.problem
        note(index, base.cpf, 'problema', input.problem.mensagem)
      } else {
        if (Object.keys(input).length > 0) item.input = input
        note(index, base.cpf, 'valido')
      }
      return item
    },
  })
  const validos = items.filter((i) => i.valid && !i.problem).length
  const usadas = Object.fromEntries(Object.entries(map.roles).map(([role, idx]) => [role, map.headers[idx]!])) as SheetPreview['colunas_usadas']
  return {
    items,
    preview: {
      linhas: rows.length,
      validos,
      invalidos: items.filter((i) => !i.valid).length,
      duplicados: duplicates,
      com_problema: items.filter((i) => i.problem).length,
      coluna_cpf: { indice: map.cpf + 1, nome: map.headers[map.cpf]!, escolhida_por: map.cpfBy },
      colunas_usadas: usadas,
      colunas: map.headers,
      tem_cabecalho: map.hasHeader,
      exemplos: exemplos.slice(0, 12),
    },
  }
}

function rowInput (cells: string[], map: ColumnMap): RowInput | { problem: { erro: string; mensagem: string } } {
  const at = (role: Role): string => {
    const i = map.roles[role]
    return i === undefined ? '' : (cells[i] ?? '').trim()
  }
  const out: RowInput = {}
  const v = at('valor')
  if (v !== '') {
    const n = valor(v)
    if (n === undefined) return { problem: { erro: 'valor_invalido', mensagem: `Valor da parcela ilegível na planilha: "${v.slice(0, 30)}".` } }
    out.amount = { kind: 'installment', value: n }
  }
  const p = at('prazo')
  if (p !== '') {
    const n = prazo(p)
    if (n === undefined) return { problem: { erro: 'prazo_invalido', mensagem: `Prazo ilegível na planilha: "${p.slice(0, 30)}" (use de 1 a 120 parcelas).` } }
    out.installments = n
  }
  // Data for the person is passed as the caller's own (the flow validates it and says which field is wrong).
  const supplied: Partial<Record<Field, string>> = {}
  for (const role of ['nome', 'telefone', 'data_nascimento', 'email'] as const) {
    const value = at(role)
    if (value !== '') supplied[role] = value
  }
  if (Object.keys(supplied).length > 0) out.supplied = supplied
  return out
}
