/** Spreadsheet reading (CSV ;/, UTF-8/Latin-1/UTF-16, XLSX, pasted), column choice, limits, outcomes, pace, results files. */
import { parse as parseCsv } from 'csv-parse/sync'
import { zipSync } from 'fflate'
import readXlsxFile from 'read-excel-file/node'
import t, { type Test as Tap } from 'tap'
import writeXlsxFile from 'write-excel-file/node'
import { toItems } from '../../src/domain/batches/intake.js'
import { openDatabase } from '../../src/db/database.js'
import { outcomeOf, pace, UPSTREAM_RETRY_STEP, waitsAtBank } from '../../src/domain/batches/outcome.js'
import { BatchRepository } from '../../src/domain/batches/repository.js'
import { mapColumns, sheetItems, type ColumnMap } from '../../src/domain/batches/sheet-columns.js'
import { resultHeaders, resultRow, toCsv, toXlsx } from '../../src/domain/batches/sheet-export.js'
import { decode, detectDelimiter, readSheet } from '../../src/domain/batches/sheet-read.js'
import { SheetStore, type ExportRow } from '../../src/domain/batches/sheet-store.js'
import type { ItemStatus } from '../../src/domain/batches/types.js'
import { validCpf, validCpfs } from '../fixtures/batches.js'

const LIMITS = { maxBytes: 1024 * 1024, maxRows: 100 }
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1')
const fmt = (cpf: string): string => cpf.replace(/^(\d{3})(\d{3})(\d{3})(\d{2})$/, '$1.$2.$3-$4')

async function rejects (t: Tap, p: Promise<unknown>, code: string, status: number): Promise<{ message: string; details?: Record<string, unknown> }> {
  try {
    await p
  } catch (err) {
    const e = err as { code: string; statusCode: number; message: string; details?: Record<string, unknown> }
    t.equal(e.code, code, `error code ${code}`)
    t.equal(e.statusCode, status, `HTTP ${status}`)
    return e
  }
  throw new Error(`expected ${code}`)
}

const mapped = (m: ColumnMap | { error: string }): ColumnMap => {
  if ('error' in m) throw new Error(m.error)
  return m
}

t.test('encoding: UTF-8 (with or without BOM), Latin-1 as Brazilian Excel saves it, UTF-16 with its BOM', async (t) => {
  t.same(decode(Buffer.from('\ufeffJosé;São Paulo', 'utf8')), { text: 'José;São Paulo', encoding: 'utf-8' }, 'UTF-8 with BOM, BOM dropped')
  t.same(decode(Buffer.from('José', 'utf8')), { text: 'José', encoding: 'utf-8' }, 'UTF-8')
  t.same(decode(latin1('José;Conceição')), { text: 'José;Conceição', encoding: 'latin-1' }, 'Latin-1')
  t.same(decode(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('cpf\tnome', 'utf16le')])), { text: 'cpf\tnome', encoding: 'utf-16le' }, 'UTF-16LE')
})

t.test('delimiter: ; , and tab; quoted separators do not count', async (t) => {
  t.equal(detectDelimiter('cpf;nome\n1;"Silva, Maria"\n2;João'), ';', 'semicolon, despite a comma inside quotes')
  t.equal(detectDelimiter('cpf,nome\n1,Maria\n2,João'), ',', 'comma')
  t.equal(detectDelimiter('cpf\tnome\n1\tMaria'), '\t', 'tab')
  t.equal(detectDelimiter('12345678909\n98765432100'), ',', 'one column: any')
})

t.test('a Latin-1 CSV with ; and a header: CPF column by name, optional columns found, rows with their own input', async (t) => {
  const [a, b, c] = [validCpf(1), validCpf(2), validCpf(3)]
  const csv = 'Nome do Cliente;CPF;Celular;Data de Nascimento;E-mail;Valor;Prazo;Observação\r\n' +
    `José da Conceição;${fmt(a)};(11) 98765-4321;15/03/1985;jose@exemplo.com;350,00;24;ligar à tarde\r\n` +
    `Maria Souza;${b};;;;;;\r\n` +
    `Repetido;${a};;;;;;\r\n` +
    'Inválido;123.456.789-00;;;;;;\r\n' +
    `Ruim;${c};;;;abc;;\r\n;;;;;;;\r\n`
  const sheet = await readSheet(latin1(csv), 'arquivo', LIMITS)
  t.match(sheet, { format: 'csv', encoding: 'latin-1', delimiter: ';' }, 'format, encoding and separator detected')
  t.equal(sheet.rows.length, 6, 'blank rows dropped')
  const map = mapped(mapColumns(sheet))
  t.same([map.cpf, map.cpfBy, map.hasHeader], [1, 'nome', true], 'CPF column by its name')
  t.same(map.roles, { nome: 0, telefone: 2, data_nascimento: 3, email: 4, valor: 5, prazo: 6 }, 'optional columns by their names')
  const { items, preview } = sheetItems(sheet, map)
  t.match(preview, { linhas: 5, validos: 2, invalidos: 1, duplicados: 1, com_problema: 1, tem_cabecalho: true }, 'preview counts')
  t.same(preview.coluna_cpf, { indice: 2, nome: 'CPF', escolhida_por: 'nome' }, 'which column was the CPF')
  t.same(preview.colunas_usadas, { nome: 'Nome do Cliente', telefone: 'Celular', data_nascimento: 'Data de Nascimento', email: 'E-mail', valor: 'Valor', prazo: 'Prazo' }, 'columns used, by header')
  t.notOk(JSON.stringify(preview).includes(a), 'no whole CPF in the preview')
  t.same(items.map((i) => i.cpf), [a, b, '12345678900', c], 'first occurrence wins, order kept')
  t.same(items[0]!.input, {
    amount: { kind: 'installment', value: 350 },
    installments: 24,
    supplied: { nome: 'José da Conceição', telefone: '(11) 98765-4321', data_nascimento: '15/03/1985', email: 'jose@exemplo.com' },
  }, 'the row\'s own valor, prazo and person data')
  t.same(items[1]!.input, { supplied: { nome: 'Maria Souza' } }, 'a row with only a name brings just the name')
  t.same(items[3]!.problem?.erro, 'valor_invalido', 'an unreadable valor is a problem of that row')
  t.equal(items[0]!.cells[7], 'ligar à tarde', 'cells kept as read (accents intact)')
})

t.test('without a header the CPF column is the one with most valid CPFs; a chosen column wins', async (t) => {
  const csv = [`Maria,${validCpf(1)},x`, `João,${validCpf(2)},y`, `Ana,${validCpf(3)},z`].join('\n')
  const sheet = await readSheet(Buffer.from(csv), 'arquivo', LIMITS)
  const map = mapped(mapColumns(sheet))
  t.same([map.cpf, map.cpfBy, map.hasHeader], [1, 'conteudo', false], 'found by content')
  t.same(map.headers, ['Coluna 1', 'Coluna 2', 'Coluna 3'], 'numbered columns')
  t.equal(sheetItems(sheet, map).preview.validos, 3, 'every row counts (no header eaten)')
  t.same(mapped(mapColumns(sheet, '3')).cpfBy, 'escolhida', 'a column chosen by number')
  t.match(mapColumns(sheet, 'telefone'), { error: /não existe/ }, 'an unknown column in words')
  const noCpf = await readSheet(Buffer.from('nome;cidade\nMaria;Recife'), 'arquivo', LIMITS)
  t.match(mapColumns(noCpf), { error: /Nenhuma coluna/ }, 'no CPF anywhere')
})

t.test('pasted CPFs: lines, commas, semicolons and blanks; CPFs that lost leading zeros get them back', async (t) => {
  const sheet = await readSheet(Buffer.from(`${fmt(validCpf(1))}\n${validCpf(2)}, ${validCpf(3)};\n\n${Number(validCpf(4))}`), 'lista', LIMITS)
  t.equal(sheet.format, 'lista', 'a list')
  const { items, preview } = sheetItems(sheet, mapped(mapColumns(sheet)))
  t.same(items.map((i) => i.cpf), [validCpf(1), validCpf(2), validCpf(3), validCpf(4)], 'four CPFs')
  t.equal(preview.validos, 4, 'all valid')
})

t.test('a sheet\'s CPF column and a CPF list make the same items by one rule: normalized, first wins, invalid kept', async (t) => {
  const [a, b] = [validCpf(1), validCpf(2)]
  const entries = [fmt(a), b, a, '123.456.789-00', 'abc', ` ${b} `, '12345678909']
  const list = toItems(entries)
  t.same(list.items, [{ cpf: a, valid: true }, { cpf: b, valid: true }, { cpf: '12345678900', valid: false }, { cpf: 'abc', valid: false }, { cpf: '12345678909', valid: true }], 'the list\'s items')
  t.equal(list.duplicates, 2, 'the list\'s repeats')
  const csv = 'cpf;nome\n' + entries.map((e, i) => `${e};Pessoa ${i}`).join('\n') + '\n;Sem CPF\n'
  const sheet = await readSheet(Buffer.from(csv), 'arquivo', LIMITS)
  const { items, preview } = sheetItems(sheet, mapped(mapColumns(sheet)))
  t.same(items.map((i) => ({ cpf: i.cpf, valid: i.valid })), list.items, 'the sheet\'s items: same CPFs, validity and order')
  t.equal(preview.duplicados, list.duplicates, 'the same repeats counted')
  t.same(preview.exemplos.filter((e) => e.situacao === 'duplicado').map((e) => e.linha), [4, 7], 'repeats shown at their row numbers (header = row 1)')
  t.same(items.map((i) => i.cells[1]), ['Pessoa 0', 'Pessoa 1', 'Pessoa 3', 'Pessoa 4', 'Pessoa 6'], 'each item keeps the cells of the row that came first; the row without a CPF is no item')
  t.same(toItems(['']).items, [{ cpf: '', valid: false }], 'a blank entry of a JSON list is kept, as an invalid item')
})

t.test('XLSX: first sheet with data, numbers and dates as Excel stores them', async (t) => {
  const cpf = validCpf(7)
  const file = await writeXlsxFile([
    [{ value: 'CPF' }, { value: 'Nome' }, { value: 'Nascimento' }, { value: 'Valor' }],
    [{ value: Number(cpf), type: Number }, { value: 'Ana Lima' }, { value: new Date(Date.UTC(1990, 4, 2)), type: Date, format: 'dd/mm/yyyy' }, { value: 420.5, type: Number }],
    [{ value: fmt(validCpf(8)) }, { value: 'Rui Dias' }, null, null],
  ]).toBuffer()
  const sheet = await readSheet(file, 'arquivo', LIMITS)
  t.equal(sheet.format, 'xlsx', 'told by its bytes')
  const { items } = sheetItems(sheet, mapped(mapColumns(sheet)))
  t.equal(items[0]!.cpf, cpf, 'a numeric CPF cell (leading zero lost by Excel) is the CPF')
  t.same(items[0]!.input, { amount: { kind: 'installment', value: 420.5 }, supplied: { nome: 'Ana Lima', data_nascimento: '1990-05-02' } }, 'date cell as YYYY-MM-DD, number as number')
  t.equal(items[1]!.cpf, validCpf(8), 'second row')
})

t.test('limits and unreadable files: clear errors, 413 for size, 415 for formats, 422 for content', async (t) => {
  await rejects(t, readSheet(Buffer.alloc(2048, 0x31), 'arquivo', { maxBytes: 1024, maxRows: 10 }), 'arquivo_grande_demais', 413)
  await rejects(t, readSheet(Buffer.alloc(0), 'arquivo', LIMITS), 'arquivo_vazio', 422)
  const rows = Array.from({ length: 12 }, (_, i) => validCpf(i)).join('\n')
  const e = await rejects(t, readSheet(Buffer.from(rows), 'arquivo', { maxBytes: 1e6, maxRows: 10 }), 'linhas_demais', 422)
  t.match(e.message, /máximo por lote é 10/, 'the limit in words')
  t.ok(await readSheet(Buffer.from('cpf\n' + Array.from({ length: 10 }, (_, i) => validCpf(i)).join('\n')), 'arquivo', { maxBytes: 1e6, maxRows: 10 }), 'the header does not count')
  await rejects(t, readSheet(Buffer.from(Array.from({ length: 101 }, () => 'x').join(';')), 'arquivo', LIMITS), 'colunas_demais', 422)
  await rejects(t, readSheet(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]), 'arquivo', LIMITS), 'formato_nao_suportado', 415)
  await rejects(t, readSheet(Buffer.from('PK\u0003\u0004garbage'), 'arquivo', LIMITS), 'xlsx_invalido', 422)
  await rejects(t, readSheet(Buffer.from('cpf;nome\n"123;Maria'), 'arquivo', LIMITS), 'csv_invalido', 422)
  // A small zip that declares a huge content: refused before anything is inflated.
  const bomb = Buffer.from(zipSync({ 'xl/worksheets/sheet1.xml': new Uint8Array(3 * 1024 * 1024) }, { level: 9 }))
  t.ok(bomb.length < 64 * 1024, 'the bomb is small')
  await rejects(t, readSheet(bomb, 'arquivo', { ...LIMITS, maxUnpackedBytes: 1024 * 1024 }), 'arquivo_grande_demais', 413)
})

t.test('outcomes in the broker\'s words', async (t) => {
  t.equal(outcomeOf('SUCCESS', null, 'simulacao'), 'oferta', 'offer')
  t.equal(outcomeOf('FAILED', 'termo_recusado', 'termo'), 'recusado', 'refused')
  t.equal(outcomeOf('FAILED', 'nao_elegivel', 'consultando_vinculos'), 'recusado', 'PresençaBank: not eligible')
  t.equal(outcomeOf('FAILED', 'sem_margem', 'margem'), 'sem_margem', 'no margin')
  t.equal(outcomeOf('FAILED', 'cpf_invalido', 'validacao'), 'erro', 'invalid CPF is an error')
  t.equal(outcomeOf('PENDING', null, 'aguardando'), 'aguardando', 'waiting at the bank')
  t.equal(outcomeOf('PENDING', 'upstream_indisponivel', 'aguardando_upstream'), 'na_fila', 'a transient retry is queued, not waiting at the bank')
  t.equal(outcomeOf('PENDING', null, null), 'na_fila', 'never run')
  t.equal(outcomeOf('RUNNING', null, null), 'em_andamento', 'running')
  t.equal(outcomeOf('CANCELLED', null, null), 'cancelado', 'cancelled')
})

t.test('waiting at the bank is one rule: counts by outcome and the pace\'s queries agree on every pending step', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const states: Array<[ItemStatus, string | null]> = [
    ['PENDING', null], ['PENDING', UPSTREAM_RETRY_STEP], ['PENDING', 'aguardando_consulta'], ['PENDING', 'termo'],
    ['RUNNING', null], ['RUNNING', 'aguardando_consulta'], ['SUCCESS', 'simulacao'], ['FAILED', UPSTREAM_RETRY_STEP],
  ]
  new BatchRepository(db).queue.insertBatch({ id: 'b', origin: 'lista', params: {}, items: validCpfs(states.length).map((cpf) => ({ cpf, valid: true })), now: 1000 })
  const set = db.prepare('UPDATE batch_items SET status = ?, etapa = ?, first_run_at = 1000, finished_at = ? WHERE batch_id = \'b\' AND seq = ?')
  states.forEach(([status, etapa], seq) => set.run(status, etapa, status === 'SUCCESS' || status === 'FAILED' ? 2000 + seq : null, seq))
  const store = new SheetStore(db)
  const outcomes = store.outcomes('b')
  const p = store.paceInput('b', 5000)
  t.equal(outcomes.aguardando, 2, 'the two steps the flow put back wait at the bank')
  t.equal(states.filter(([status, etapa]) => waitsAtBank(status, etapa)).length, outcomes.aguardando, 'the rule and the counts by outcome agree')
  t.equal(p.waitingSince.length, outcomes.aguardando, 'the pace\'s waiting items are the ones waiting at the bank')
  t.equal(p.queued, outcomes.na_fila + outcomes.em_andamento, 'the pace\'s queue is the items in line (an upstream retry among them) and running')
  t.equal(outcomes.na_fila, 2, 'never run, and put back after an upstream failure')
})

t.test('pace: throughput from recent finishes; time left counts items waiting at the bank', async (t) => {
  const now = 1_000_000
  const finishes = Array.from({ length: 61 }, (_, i) => now - 60_000 + i * 1000) // one per second for a minute
  const q = pace({ now, recentFinishes: finishes, queued: 120, waitingSince: [], waitDurations: [] })
  t.equal(q.porMinuto, 61, '≈ 60 per minute')
  t.equal(q.restanteS, 120, '120 queued at 1/s: two minutes (rounded to 5 s)')
  const w = pace({ now, recentFinishes: finishes, queued: 10, waitingSince: [30_000, 100_000], waitDurations: [300_000, 240_000, 360_000] })
  t.equal(w.restanteS, 270, 'the queue is quick, but the item that waited 30 s of a typical 300 s needs 270 s more')
  t.equal(pace({ now, recentFinishes: [], queued: 5, waitingSince: [], waitDurations: [] }).restanteS, null, 'nothing finished yet: unknown')
  t.equal(pace({ now, recentFinishes: finishes, queued: 0, waitingSince: [10_000], waitDurations: [] }).restanteS, null, 'waiting, no finished wait to compare: unknown')
  t.equal(pace({ now, recentFinishes: finishes, queued: 0, waitingSince: [], waitDurations: [] }).restanteS, 0, 'all done')
})

t.test('results file: input columns kept, then outcome, reason, consult, offer, WhatsApp text; CSV and XLSX read back', async (t) => {
  const sheet = { arquivo: 'clientes.csv', formato: 'csv' as const, colunas: ['Nome', 'CPF', 'motivo'], coluna_cpf: 1, usadas: { nome: 0 } }
  const offer: ExportRow = {
    seq: 0,
    cpf: validCpf(1),
    status: 'SUCCESS',
    etapa: 'concluido',
    erro: null,
    mensagem: null,
    cells: ['José Silva', fmt(validCpf(1)), 'obs'],
    resultado: {
      sucesso: true,
      oportunidade_id: '9',
      dados_validados: { nome: 'JOSE SILVA', cpf: validCpf(1), telefone: '11987654321', data_nascimento: '1985-03-15', email: 'j@x.com' },
      termo_resultado: { id: 'consult-1', status: 'SUCCESS', description: null, availableMarginValue: '500.00' },
      simulacao_resultado: { valor_parcela: 350.5, numero_parcelas: 24, valor_liberado: 5000, taxa_juros_mensal: 2.35 },
      status_termo: 'SUCCESS',
      motivo_falha: null,
    },
  }
  const refused: ExportRow = { seq: 1, cpf: validCpf(2), status: 'FAILED', etapa: 'termo', erro: 'termo_recusado', mensagem: 'Data de nascimento não confere', cells: ['=HYPERLINK("x")', validCpf(2), ''], resultado: null }
  const headers = resultHeaders(sheet)
  t.same(headers.slice(0, 4), ['Nome', 'CPF', 'motivo', 'resultado'], 'the file\'s columns first')
  t.ok(headers.includes('motivo_lote'), 'our column renamed when the file has one of the same name')
  const rows = [resultRow(offer, sheet), resultRow(refused, sheet)]
  t.same(rows[0]!.slice(3, 12), ['oferta', '', '', 'consult-1', 350.5, 24, 5000, 2.35, 500], 'offer fields')
  t.match(rows[0]![12], /Olá, Jose! .*24x de R\$ 350,50/s, 'WhatsApp text of the offer')
  t.same(rows[1]!.slice(3, 6), ['recusado', 'Data de nascimento não confere', 'termo_recusado'], 'refusal with its reason')
  t.match(rows[1]![12], /não foi aprovada/, 'WhatsApp text of the refusal')

  const csv = await toCsv(headers, rows)
  t.ok(csv.startsWith('\ufeff'), 'BOM for Excel')
  const back = parseCsv(csv, { delimiter: ';', bom: true }) as string[][]
  t.same(back[0], headers, 'header row')
  t.same(back[1]!.slice(0, 11), ['José Silva', fmt(validCpf(1)), 'obs', 'oferta', '', '', 'consult-1', '350,5', '24', '5000', '2,35'], 'decimal comma')
  t.equal(back[2]![0], '\'=HYPERLINK("x")', 'a formula-looking cell is made inert')
  t.match(back[1]![12], /\n/, 'multi-line WhatsApp text survives quoting')

  const xlsx = await toXlsx(headers, rows)
  const [first] = await readXlsxFile(xlsx)
  t.same(first!.data[0], headers, 'XLSX header')
  t.same(first!.data[1]!.slice(3, 11), ['oferta', null, null, 'consult-1', 350.5, 24, 5000, 2.35], 'numbers stay numbers in XLSX')
})
