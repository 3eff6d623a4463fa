/** /clt/lotes/planilha (preview, start), results CSV/XLSX, failed rows again, errors in one shape, no CPF in logs, 2,000 rows timed. */
import { Writable } from 'node:stream'
import { parse as parseCsv } from 'csv-parse/sync'
import { pino } from 'pino'
import readXlsxFile from 'read-excel-file/node'
import t from 'tap'
import writeXlsxFile from 'write-excel-file/node'
import type { App } from '../../src/http/app.js'
import { VALIDATION_STEP, type FlowOutcome } from '../../src/domain/flow/types.js'
import { BatchRepository } from '../../src/domain/batches/repository.js'
import { SHEET_MAX_BYTES } from '../../src/domain/batches/sheets.js'
import { ConfigStore } from '../../src/config/store.js'
import { openDatabase } from '../../src/db/database.js'
import { createTenant } from '../../src/tenant.js'
import { AUTH, build } from '../fixtures/app.js'
import { E2E_ENGINE } from '../fixtures/batches-sandbox.js'
import { testConfig } from '../fixtures/config.js'
import { startSandbox } from '../fixtures/sandbox.js'
import { listeningPort } from '../fixtures/net.js'
import { rawPost } from '../fixtures/raw-post.js'
import { FAST_ENGINE, FakeRunner, buildWithRunner, failure, pending, success, validCpf, waitFor } from '../fixtures/batches.js'

const fmt = (cpf: string): string => cpf.replace(/^(\d{3})(\d{3})(\d{3})(\d{2})$/, '$1.$2.$3-$4')
const upload = (app: App, body: Buffer | string, query = '', type = 'text/csv') =>
  app.inject({ method: 'POST', url: `/clt/lotes/planilha${query}`, headers: { ...AUTH, 'content-type': type }, payload: body })
const get = (app: App, url: string) => app.inject({ method: 'GET', url, headers: AUTH })
const finished = (app: App, id: string) => async () => {
  const b = (await get(app, `/clt/lotes/${id}?limit=1`)).json()
  return b.finished_at !== null ? b : undefined
}

function sheetCsv (): string {
  return 'Nome;CPF;Celular;Valor;Prazo\r\n' +
    `José da Silva;${fmt(validCpf(1))};11987654321;350,00;24\r\n` +
    `Maria Souza;${validCpf(2)};;;\r\n` +
    `Repetida;${validCpf(1)};;;\r\n` +
    'Errado;111.222.333-44;;;\r\n' +
    `Ruim;${validCpf(3)};;xyz;\r\n` +
    `Ana Lima;${validCpf(4)};;;\r\n`
}

t.test('preview then start: rows read, columns chosen, each row\'s own input to the flow, counts by outcome, results files', async (t) => {
  const runner = new FakeRunner({ step: (cpf) => (cpf === validCpf(2) ? failure(cpf, 'termo_recusado') : cpf === validCpf(4) ? failure(cpf, 'sem_margem') : success(cpf)) })
  const { app } = await buildWithRunner(t, { runner })
  const body = Buffer.from(sheetCsv(), 'latin1')

  const pv = await upload(app, body, '?previa=1&arquivo=clientes.csv')
  t.equal(pv.statusCode, 200, 'preview 200')
  t.match(pv.json().previa, {
    linhas: 6,
    validos: 3,
    invalidos: 1,
    duplicados: 1,
    com_problema: 1,
    formato: 'csv',
    codificacao: 'latin-1',
    separador: ';',
    coluna_cpf: { indice: 2, nome: 'CPF', escolhida_por: 'nome' },
    colunas_usadas: { nome: 'Nome', telefone: 'Celular', valor: 'Valor', prazo: 'Prazo' },
  }, 'preview says what would be read')
  t.equal(runner.totalCalls(), 0, 'a preview runs nothing')
  t.equal((await get(app, '/clt/lotes')).json().total, 0, 'and stores nothing')

  const res = await upload(app, body, '?arquivo=clientes.csv&prazo=12')
  t.equal(res.statusCode, 202, 'started: 202')
  const created = res.json()
  t.match(created, { total: 5, invalidos: 2, duplicados: 1, resultado_url: `/clt/lotes/${created.lote_id}/resultado.csv` }, 'created: 5 distinct CPFs, 2 will not run')
  const final = await waitFor('batch end', finished(app, created.lote_id))
  t.match(final, { status: 'COMPLETED', arquivo: 'clientes.csv', formato: 'csv', origem: 'planilha', restante_s: 0 }, 'finished, with its file name')
  t.same(final.por_resultado, { oferta: 1, recusado: 1, sem_margem: 1, aguardando: 0, erro: 2, cancelado: 0, na_fila: 0, em_andamento: 0 }, 'counts by outcome')
  const jose = runner.inputs.find((i) => i.cpf === validCpf(1))!
  t.same([jose.amount, jose.installments, jose.supplied], [{ kind: 'installment', value: 350 }, 24, { nome: 'José da Silva', telefone: '11987654321' }], 'the row\'s valor, prazo and data win over the batch\'s')
  t.same(runner.inputs.find((i) => i.cpf === validCpf(2))!.installments, 12, 'the batch\'s prazo where the row has none')
  t.notOk(runner.calls.has(validCpf(3)), 'the row with an unreadable valor did not run')

  // The event stream's progress carries the same counts (the stream of a finished batch ends after `done`).
  const events = (await get(app, `/clt/lotes/${created.lote_id}/eventos`)).payload
  const progress = events.split('\n\n').filter((b) => b.startsWith('event: progress')).map((b) => JSON.parse(b.split('data: ')[1]!))
  t.match(progress.at(-1), { por_resultado: { oferta: 1, recusado: 1, sem_margem: 1, erro: 2 }, restante_s: 0 }, 'progress events carry counts by outcome and time left')

  const csv = await get(app, `/clt/lotes/${created.lote_id}/resultado.csv`)
  t.equal(csv.statusCode, 200, 'CSV 200')
  t.match(csv.headers['content-type'], /^text\/csv/, 'text/csv')
  t.match(csv.headers['content-disposition'], /attachment; filename="lote-[0-9a-f]{8}-resultado\.csv"/, 'a download with a name')
  const rows = parseCsv(csv.rawPayload, { delimiter: ';', bom: true }) as string[][]
  t.same(rows[0], ['Nome', 'CPF', 'Celular', 'Valor', 'Prazo', 'resultado', 'motivo', 'codigo', 'consulta_id', 'valor_parcela', 'parcelas', 'valor_liberado', 'taxa_mensal', 'margem_disponivel', 'mensagem_whatsapp'], 'input columns, then ours')
  t.equal(rows.length, 6, 'one row per distinct CPF')
  t.same(rows.map((r) => [r[0], r[5], r[7]]).slice(1), [
    ['José da Silva', 'oferta', ''], ['Maria Souza', 'recusado', 'termo_recusado'], ['Errado', 'erro', 'cpf_invalido'], ['Ruim', 'erro', 'valor_invalido'], ['Ana Lima', 'sem margem', 'sem_margem'],
  ], 'outcome and code per row, in file order')
  t.equal(rows[1]![11], '1000', 'released amount of the offer')
  t.match(rows[2]![14], /não foi aprovada/, 'WhatsApp text for the refusal')

  const xlsx = await get(app, `/clt/lotes/${created.lote_id}/resultado.xlsx`)
  t.equal(xlsx.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'XLSX type')
  const [sheet] = await readXlsxFile(xlsx.rawPayload)
  t.equal(sheet!.data.length, 6, 'XLSX: the same rows')
  t.equal(sheet!.data[1]![11], 1000, 'numbers as numbers')

  // The failed rows that ran (refused, no margin) again, as a new batch with their cells.
  runner.calls.clear()
  const again = await app.inject({ method: 'POST', url: `/clt/lotes/${created.lote_id}/repetir-falhas`, headers: AUTH })
  t.equal(again.statusCode, 202, 'retry: 202')
  t.match(again.json(), { total: 2, repete_lote: created.lote_id, parametros: { prazo: 12, repete_lote: created.lote_id } }, 'two items, same parameters, says where it came from')
  const second = await waitFor('retry end', finished(app, again.json().lote_id))
  t.equal(second.arquivo, 'clientes.csv', 'the file name carried over')
  t.same([...runner.calls.keys()].sort(), [validCpf(2), validCpf(4)].sort(), 'only the failed CPFs ran')
  const rows2 = parseCsv((await get(app, `/clt/lotes/${second.lote_id}/resultado.csv`)).rawPayload, { delimiter: ';', bom: true }) as string[][]
  t.same(rows2.slice(1).map((r) => r[0]), ['Maria Souza', 'Ana Lima'], 'their rows kept')
})

t.test('retrying failures takes runs stopped for missing data, not CPFs refused at creation', async (t) => {
  // The flow stops a run for missing borrower data at its validation step, the same step an invalid CPF gets
  // when the batch is created; only the first ran (and may pass once the CRM has the data).
  const missingData: FlowOutcome = { ...failure(validCpf(1), 'dados_faltantes'), etapa: VALIDATION_STEP }
  const runner = new FakeRunner({ step: (cpf) => (cpf === validCpf(1) ? missingData : success(cpf)) })
  const { app } = await buildWithRunner(t, { runner })
  const id = (await upload(app, `${validCpf(1)}\n${validCpf(2)}\n123\n`, '?tipo=lista', 'text/plain')).json().lote_id as string
  const done = await waitFor('batch end', finished(app, id))
  t.match(done.por_resultado, { oferta: 1, erro: 2 }, 'one offer; the missing data and the invalid CPF are errors')
  runner.calls.clear()
  const again = await app.inject({ method: 'POST', url: `/clt/lotes/${id}/repetir-falhas`, headers: AUTH })
  t.equal(again.statusCode, 202, 'retry: 202')
  t.equal(again.json().total, 1, 'one item: the run stopped for missing data')
  await waitFor('retry end', finished(app, again.json().lote_id))
  t.same([...runner.calls.keys()], [validCpf(1)], 'it ran again; the invalid CPF did not')
})

t.test('the results file while the batch runs (partial); retry refused while running; cancel', async (t) => {
  const runner = new FakeRunner({ step: (cpf, call) => (cpf === validCpf(2) && call < 1000 ? pending(cpf, 50) : success(cpf)) })
  const { app } = await buildWithRunner(t, { runner })
  const id = (await upload(app, `${validCpf(1)}\n${validCpf(2)}\n`, '?tipo=lista', 'text/plain')).json().lote_id as string
  await waitFor('first done', async () => (await get(app, `/clt/lotes/${id}?limit=1`)).json().processados >= 1)
  const b = await waitFor('waiting at the bank', async () => {
    const x = (await get(app, `/clt/lotes/${id}?limit=1`)).json()
    return x.por_resultado.aguardando === 1 ? x : undefined
  })
  t.equal(b.por_resultado.oferta, 1, 'one offer, one waiting at the bank')
  const partial = await get(app, `/clt/lotes/${id}/resultado.csv`)
  t.match(partial.headers['content-disposition'], /-parcial\.csv"/, 'named partial')
  const rows = parseCsv(partial.rawPayload, { delimiter: ';', bom: true }) as string[][]
  t.same(rows.map((r) => [r[0], r[1]]), [['cpf', 'resultado'], [validCpf(1), 'oferta'], [validCpf(2), 'aguardando o banco']], 'a pasted list: the cpf column, then the outcome so far')
  const early = await app.inject({ method: 'POST', url: `/clt/lotes/${id}/repetir-falhas`, headers: AUTH })
  t.match([early.statusCode, early.json().error], [409, 'lote_em_andamento'], 'no retry while running')
  await app.inject({ method: 'POST', url: `/clt/lotes/${id}/cancelar`, headers: AUTH })
  const end = await waitFor('cancelled', finished(app, id))
  t.equal(end.status, 'CANCELLED', 'cancelled')
  const none = await app.inject({ method: 'POST', url: `/clt/lotes/${id}/repetir-falhas`, headers: AUTH })
  t.match([none.statusCode, none.json().error], [422, 'nada_a_repetir'], 'nothing failed: nothing to retry')
})

t.test('bad uploads: clear 4xx in the one error shape, nothing stored', async (t) => {
  const { app } = await buildWithRunner(t, { config: { BATCH_MAX_ITEMS: '3' } })
  const shape = (r: Awaited<ReturnType<typeof upload>>, status: number, error: string): void => {
    t.equal(r.statusCode, status, `${error}: HTTP ${status}`)
    t.match(r.json(), { success: false, error, message: String }, `${error}: one error shape`)
  }
  shape(await upload(app, Buffer.alloc(0)), 422, 'arquivo_vazio')
  shape(await upload(app, Array.from({ length: 5 }, (_, i) => validCpf(i)).join('\n')), 422, 'linhas_demais')
  shape(await upload(app, 'nome;cidade\nMaria;Recife\n'), 422, 'coluna_cpf_nao_encontrada')
  const noColumn = await upload(app, `${validCpf(1)};Maria Souza;11987654321\n`, '?coluna_cpf=9')
  shape(noColumn, 422, 'coluna_cpf_nao_encontrada')
  t.same(noColumn.json().details?.colunas, ['Coluna 1', 'Coluna 2', 'Coluna 3'], 'a headerless file\'s columns by number')
  t.notOk(noColumn.body.includes(validCpf(1)) || noColumn.body.includes('Maria') || noColumn.body.includes('11987654321'), 'no cell of the first row in the answer')
  shape(await upload(app, Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 1, 2, 3, 4])), 415, 'formato_nao_suportado')
  shape(await upload(app, `${validCpf(1)}\n`, '?prazo=500'), 400, 'requisicao_invalida')
  shape(await upload(app, `${validCpf(1)}\n`, '?banco=presencabank'), 409, 'presencabank_nao_configurado')
  const big = await upload(app, Buffer.alloc(5 * 1024 * 1024 + 1, 0x31))
  shape(big, 413, 'arquivo_grande_demais')
  t.match(big.json().message, /máximo é 5 MB/, 'the size limit in words')
  const noKey = await app.inject({ method: 'POST', url: '/clt/lotes/planilha', payload: `${validCpf(1)}\n`, headers: { 'content-type': 'text/csv' } })
  t.equal(noKey.statusCode, 401, 'the key is required')
  shape(await get(app, '/clt/lotes/nao-existe/resultado.csv'), 404, 'lote_nao_encontrado')
  t.equal((await get(app, '/clt/lotes')).json().total, 0, 'nothing stored')
})

t.test('an upload over the size limit, declared or chunked, over real HTTP: the same 413, nothing stored', async (t) => {
  const { app } = await buildWithRunner(t)
  const port = await listeningPort(app)
  const headers = { ...AUTH, 'content-type': 'text/csv' }
  const declared = await rawPost(port, '/clt/lotes/planilha', headers, { declared: SHEET_MAX_BYTES + 1 })
  // Chunked: no length up front, so it is refused once the bytes received pass the limit.
  const chunked = await rawPost(port, '/clt/lotes/planilha', headers, { chunked: SHEET_MAX_BYTES + 1 })
  const expected = { success: false, error: 'arquivo_grande_demais', message: 'O arquivo é grande demais: o máximo é 5 MB.', details: { maximo_bytes: SHEET_MAX_BYTES } }
  for (const [name, r] of [['declared', declared], ['chunked', chunked]] as const) {
    t.equal(r.status, 413, `${name}: 413`)
    t.same(JSON.parse(r.text), expected, `${name}: the one error shape, the limit in words and in bytes`)
  }
  const fits = await rawPost(port, '/clt/lotes/planilha?previa=1', headers, { chunked: Buffer.from(`cpf\n${validCpf(1)}\n`), end: true })
  t.equal(fits.status, 200, 'a chunked file under the limit is read')
  t.match(JSON.parse(fits.text).previa, { validos: 1 }, 'and previewed')
  t.equal((await get(app, '/clt/lotes')).json().total, 0, 'nothing stored')
})

t.test('a batch\'s file columns go with the batch (retention purge); no CPF reaches the log', async (t) => {
  const lines: string[] = []
  const sink = new Writable({ write (chunk, _enc, cb) { lines.push(String(chunk)); cb() } })
  const runner = new FakeRunner()
  const { app, db } = await build(t, { logger: pino({ level: 'debug' }, sink), batch: { runner, engine: FAST_ENGINE } })
  const csv = `cpf;nome;telefone\n${fmt(validCpf(5))};Lia Reis;11999998888\n${validCpf(6)};Téo Sá;\n`
  const id = (await upload(app, csv, '?arquivo=segredo.csv')).json().lote_id as string
  await waitFor('end', finished(app, id))
  await get(app, `/clt/lotes/${id}/resultado.csv`)
  const log = lines.join('')
  t.ok(log.includes('batch: created'), 'the log did record the batch')
  for (const cpf of [validCpf(5), validCpf(6), fmt(validCpf(5))]) t.notOk(log.includes(cpf), 'no whole CPF in the log')
  t.notOk(log.includes('Lia Reis') || log.includes('11999998888'), 'no cell of the file in the log')
  t.equal((db.prepare('SELECT count(*) AS n FROM batch_items WHERE batch_id = ? AND cells IS NOT NULL').get(id) as { n: number }).n, 2, 'cells stored with the items')
  new BatchRepository(db).queue.purgeFinishedBefore(Date.now() + 1)
  t.equal((db.prepare('SELECT count(*) AS n FROM batch_items').get() as { n: number }).n, 0, 'the retention purge removes the rows and their cells')
})

t.test('a batch purged between the route\'s read and its results file: the 404 of an unknown batch, not a 500', async (t) => {
  const { app, db, services } = await buildWithRunner(t)
  const repo = new BatchRepository(db)
  // The retention purge lands right after the route has read the batch, before the file is written.
  let purgeAfterRead: string | undefined
  const read = services.batches.get.bind(services.batches)
  services.batches.get = (id: string) => {
    const batch = read(id)
    if (batch && id === purgeAfterRead) {
      purgeAfterRead = undefined
      repo.queue.purgeFinishedBefore(Date.now() + 1)
    }
    return batch
  }
  for (const format of ['csv', 'xlsx']) {
    const id = (await upload(app, `${validCpf(1)}\n${validCpf(2)}\n`, '?tipo=lista', 'text/plain')).json().lote_id as string
    await waitFor('end', finished(app, id))
    t.equal((await get(app, `/clt/lotes/${id}/resultado.${format}`)).statusCode, 200, `${format}: the file while the batch is kept`)
    purgeAfterRead = id
    const gone = await get(app, `/clt/lotes/${id}/resultado.${format}`)
    t.equal(purgeAfterRead, undefined, `${format}: the purge ran after the route read the batch`)
    t.equal(gone.statusCode, 404, `${format}: 404, not 500`)
    t.same(gone.json(), { success: false, error: 'lote_nao_encontrado', message: `Lote não encontrado: ${id}` }, `${format}: in the one error shape`)
    const unknown = await get(app, `/clt/lotes/${id}/resultado.${format}`)
    t.same([unknown.statusCode, unknown.json()], [gone.statusCode, gone.json()], `${format}: the same answer as for a batch not there at all`)
  }
})

t.test('2,000 rows: upload to first item running, measured (reported, not asserted)', async (t) => {
  let firstCall = 0
  const runner = new FakeRunner({ step: (cpf) => { firstCall ||= performance.now(); return success(cpf) } })
  const { app } = await buildWithRunner(t, { runner, config: { BATCH_CONCURRENCY: '4' } })
  const csv = 'Nome;CPF;Celular;Nascimento;Valor;Prazo\r\n' + Array.from({ length: 2000 }, (_, i) => `Pessoa ${i} Silva;${fmt(validCpf(i, 3))};119${String(i).padStart(8, '0')};01/02/1980;300,00;24`).join('\r\n')
  const t0 = performance.now()
  const pv = await upload(app, csv, '?previa=1')
  const previewMs = performance.now() - t0
  t.equal(pv.json().previa.validos, 2000, '2,000 valid rows')
  const t1 = performance.now()
  const res = await upload(app, csv, '?arquivo=2000.csv')
  const acceptedMs = performance.now() - t1
  t.equal(res.statusCode, 202, 'accepted')
  await waitFor('first item', () => firstCall > 0, 30_000, 1)
  const firstMs = firstCall - t1
  t.comment(`2,000-row CSV (${Math.round(csv.length / 1024)} KB): preview ${previewMs.toFixed(0)} ms; upload → 202 ${acceptedMs.toFixed(0)} ms; upload → first item running ${firstMs.toFixed(0)} ms`)
  t.ok(firstMs > 0, 'the first item ran')
  await app.inject({ method: 'POST', url: `/clt/lotes/${res.json().lote_id}/cancelar`, headers: AUTH })

  // The same rows as an XLSX.
  const xlsx = await writeXlsxFile(csv.split('\r\n').map((line) => line.split(';').map((v) => ({ value: v })))).toBuffer()
  firstCall = 0
  runner.calls.clear()
  const t2 = performance.now()
  const res2 = await upload(app, xlsx, '?arquivo=2000.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
  const accepted2 = performance.now() - t2
  t.equal(res2.json().total, 2000, 'XLSX: 2,000 CPFs')
  await waitFor('first XLSX item', () => firstCall > 0, 30_000, 1)
  t.comment(`2,000-row XLSX (${Math.round(xlsx.length / 1024)} KB): upload → 202 ${accepted2.toFixed(0)} ms; upload → first item running ${(firstCall - t2).toFixed(0)} ms`)
  await app.inject({ method: 'POST', url: `/clt/lotes/${res2.json().lote_id}/cancelar`, headers: AUTH })
})

t.test('the OpenAPI document lists the upload, results and retry routes', async (t) => {
  const { app } = await buildWithRunner(t)
  const paths = (await app.inject({ method: 'GET', url: '/docs/json' })).json().paths as Record<string, Record<string, { summary?: string; responses?: unknown; parameters?: Array<{ name: string }> }>>
  t.ok(paths['/clt/lotes/planilha']?.['post'], 'POST /clt/lotes/planilha')
  t.same(paths['/clt/lotes/planilha']!['post']!.parameters!.map((p) => p.name).filter((n) => ['previa', 'tipo', 'coluna_cpf', 'banco'].includes(n)).sort(), ['banco', 'coluna_cpf', 'previa', 'tipo'], 'its query documented')
  t.match(paths['/clt/lotes/{id}/resultado.csv']?.['get']?.summary, /CSV/, 'GET …/resultado.csv')
  t.match(paths['/clt/lotes/{id}/resultado.xlsx']?.['get']?.summary, /XLSX/, 'GET …/resultado.xlsx')
  t.ok(paths['/clt/lotes/{id}/repetir-falhas']?.['post'], 'POST …/repetir-falhas')
})

t.test('a PresençaBank batch from a spreadsheet: the rows\' names and phones reach the flow; margins in the results', async (t) => {
  const sb = await startSandbox(t)
  await sb.configure({ presenca_rpm: 10_000, presenca_sign_delay_ms: 50 })
  const store = new ConfigStore(testConfig(6999, { ...sb.tenantConfig(), PRESENCABANK_MAX_RPM: '600', V8_MAX_RPS: '1000' }))
  const x = await createTenant({ config: store, db: openDatabase(':memory:'), logger: pino({ level: 'silent' }), batch: { engine: E2E_ENGINE }, presenca: { poll: { firstMs: 50, maxMs: 200 } } })
  t.teardown(x.close)
  const want = new Map<string, string>()
  const lines = ['CPF;Nome;Celular']
  for (const [scenario, label] of [['ok', 'com margem'], ['no_margin', 'sem margem'], ['rejected', 'recusado']] as const) {
    for (const p of await sb.people(scenario, 2)) {
      want.set(p.cpf, label)
      lines.push(`${fmt(p.cpf)};${p.nome};${p.telefone}`)
    }
  }
  const res = await upload(x.app, lines.join('\n'), '?banco=presencabank&arquivo=pb.csv')
  t.equal(res.statusCode, 202, 'accepted')
  const b = await waitFor('batch end', finished(x.app, res.json().lote_id), 60_000, 50)
  t.equal(b.banco, 'presencabank', 'runs PresençaBank')
  const rows = parseCsv((await get(x.app, `/clt/lotes/${b.lote_id}/resultado.csv`)).rawPayload, { delimiter: ';', bom: true }) as string[][]
  const head = rows[0]!
  const col = (name: string): number => head.indexOf(name)
  t.equal(rows.length, want.size + 1, 'one result row per CPF sent, after the header')
  for (const r of rows.slice(1)) {
    const cpf = r[0]!.replace(/\D/g, '')
    t.equal(r[col('resultado')], want.get(cpf), `…${cpf.slice(-4)}: ${want.get(cpf)}`)
    if (want.get(cpf) === 'com margem') t.ok(Number(r[col('margem_disponivel')]!.replace(',', '.')) > 0 && r[col('consulta_id')] !== '', 'margin and term id')
  }
})
