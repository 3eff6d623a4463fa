/** /clt/lotes routes: create (list or Kentro), validation and limits, read with paginated items, list, cancel, 404, health. */
import Fastify from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { pino } from 'pino'
import t from 'tap'
import { AUTH } from '../fixtures/app.js'
import { FAST_ENGINE, FakeRunner, buildWithRunner, failure, success, validCpf, validCpfs, waitFor } from '../fixtures/batches.js'
import { countingDb } from '../fixtures/counting-db.js'
import { openDatabase } from '../../src/db/database.js'
import { BatchService } from '../../src/domain/batches/service.js'
import type { App } from '../../src/http/app.js'
import { registerErrorHandling } from '../../src/http/errors.js'
import { batchRoutes, createdMessage } from '../../src/http/routes/batches.js'

const post = (app: App, payload: unknown, url = '/clt/lotes') => app.inject({ method: 'POST', url, headers: AUTH, payload: payload as object })
const get = (app: App, url: string) => app.inject({ method: 'GET', url, headers: AUTH })
const done = (app: App, id: string) => async () => {
  const body = (await get(app, `/clt/lotes/${id}`)).json()
  return body.finished_at !== null ? body : undefined
}

t.test('POST /clt/lotes normalizes, de-duplicates, records invalid CPFs and runs the batch', async (t) => {
  const runner = new FakeRunner({ step: (cpf) => (cpf === validCpf(2) ? failure(cpf) : success(cpf)) })
  const { app } = await buildWithRunner(t, { runner })
  const formatted = validCpf(1).replace(/^(\d{3})(\d{3})(\d{3})(\d{2})$/, '$1.$2.$3-$4')
  const res = await post(app, { cpfs: [validCpf(0), formatted, validCpf(1), validCpf(2), '123', 12345], valor: 5000, prazo: 24 })
  t.equal(res.statusCode, 202, '202 Accepted')
  const body = res.json()
  t.equal(body.success, true, 'success')
  t.match(body.lote_id, /^[0-9a-f-]{36}$/, 'a uuid lote_id')
  t.equal(body.total, 5, '3 distinct valid + 2 invalid (the formatted duplicate dropped)')
  t.equal(body.invalidos, 2, 'two invalid')
  t.equal(body.duplicados, 1, 'one duplicate')
  t.equal(body.status_url, `/clt/lotes/${body.lote_id}`, 'status_url')
  t.equal(body.eventos_url, `/clt/lotes/${body.lote_id}/eventos`, 'eventos_url')
  t.equal(body.message, 'Lote criado com 5 CPFs (2 inválidos, registrados como erro; 1 repetido ignorado).', 'the message counts invalid and repeated CPFs')

  const final = await waitFor('batch end', done(app, body.lote_id))
  t.equal(final.status, 'COMPLETED', 'COMPLETED')
  t.same(
    { total: final.total, processados: final.processados, sucessos: final.sucessos, erros: final.erros, pendentes: final.pendentes, em_andamento: final.em_andamento },
    { total: 5, processados: 5, sucessos: 2, erros: 3, pendentes: 0, em_andamento: 0 },
    'counts'
  )
  t.ok(final.created_at && final.started_at && final.finished_at, 'timestamps present')
  t.same(final.parametros, { valor_parcela: 5000, prazo: 24 }, 'parameters kept (valor is the installment)')
  const items = final.itens as Array<Record<string, unknown>>
  t.same(items.map((i) => i.cpf), [validCpf(0), validCpf(1), validCpf(2), '123', '00000012345'], 'items in input order, CPFs normalized')
  t.same(items.map((i) => i.status), ['SUCCESS', 'SUCCESS', 'FAILED', 'FAILED', 'FAILED'], 'item statuses')
  t.equal(items[3]?.erro, 'cpf_invalido', 'invalid CPF recorded as cpf_invalido')
  t.equal(items[2]?.erro, 'consulta_rejeitada', 'flow failure code')
  t.equal((items[0]?.resultado as { sucesso: boolean }).sucesso, true, 'resultado of a success')
  t.notOk('erro' in items[0]!, 'no erro field on a success')
  t.ok(runner.inputs.every((i) => i.amount?.kind === 'installment' && i.amount.value === 5000 && i.installments === 24), 'valor (the installment, as in the older system) and prazo passed to the flow')
})

t.test('a pasted column of CPFs (one string) is accepted', async (t) => {
  const { app } = await buildWithRunner(t)
  const res = await post(app, { cpfs: `${validCpf(0)}\n${validCpf(1)}; ${validCpf(2)}` })
  t.equal(res.statusCode, 202, '202')
  t.equal(res.json().total, 3, 'three CPFs')
})

t.test('validation and limits give clear 4xx answers', async (t) => {
  const { app } = await buildWithRunner(t, { config: { BATCH_MAX_ITEMS: '5' } })
  const tooMany = await post(app, { cpfs: validCpfs(6) })
  t.equal(tooMany.statusCode, 422, 'more CPFs than BATCH_MAX_ITEMS → 422')
  t.equal(tooMany.json().error, 'lote_muito_grande', 'stable code')
  t.same(tooMany.json().details, { maximo: 5, recebidos: 6 }, 'details say the limit and the count')
  t.equal((await post(app, { cpfs: [...validCpfs(5), ...validCpfs(5)] })).statusCode, 202, 'duplicates do not count against the limit')
  const empty = await post(app, { cpfs: [] })
  t.equal(empty.statusCode, 422, 'empty list → 422')
  t.equal(empty.json().error, 'lote_vazio', 'lote_vazio')
  const missing = await post(app, { valor: 10 })
  t.equal(missing.statusCode, 400, 'no cpfs → 400')
  t.equal(missing.json().error, 'dados_faltantes', 'dados_faltantes')
  t.same(missing.json().details.campos, ['cpfs'], 'names the field')
  const noPipeline = await post(app, { origem: 'kentro' })
  t.equal(noPipeline.json().error, 'dados_faltantes', 'kentro without pipeline_id')
  t.equal((await post(app, { origem: 'kentro', pipeline_id: 1, cpfs: [validCpf(0)] })).statusCode, 400, 'both sources → 400')
  const badPrazo = await post(app, { cpfs: [validCpf(0)], prazo: 'doze' })
  t.equal(badPrazo.statusCode, 400, 'a non-numeric prazo → 400')
  t.equal(badPrazo.json().error, 'requisicao_invalida', 'requisicao_invalida')
  const huge = await app.inject({ method: 'POST', url: '/clt/lotes', headers: { ...AUTH, 'content-type': 'application/json' }, payload: JSON.stringify({ cpfs: Array(90_000).fill('123.456.789-09') }) })
  t.equal(huge.statusCode, 413, 'a body over 1 MB → 413')
  t.equal(huge.json().error, 'corpo_muito_grande', 'corpo_muito_grande')
  const midsize = await app.inject({ method: 'POST', url: '/clt/lotes', headers: { ...AUTH, 'content-type': 'application/json' }, payload: JSON.stringify({ cpfs: Array(12_000).fill('123.456.789-09') }) })
  t.equal(midsize.statusCode, 202, 'a 200 KB body (over the app-wide 100 KB) is accepted on this route')
  t.equal((await app.inject({ method: 'POST', url: '/clt/lotes', payload: { cpfs: [validCpf(0)] } })).statusCode, 401, 'no API key → 401')
  t.equal((await app.inject({ method: 'GET', url: '/clt/lotes' })).statusCode, 401, 'listing needs the key too')
})

t.test('origem kentro takes the CPFs of the pipeline opportunities', async (t) => {
  const asked: number[] = []
  const { app, runner } = await buildWithRunner(t, {
    listCpfs: async (id) => {
      asked.push(id)
      return [validCpf(7), `${validCpf(8).slice(0, 3)}.${validCpf(8).slice(3, 6)}.${validCpf(8).slice(6, 9)}-${validCpf(8).slice(9)}`, '', validCpf(7)]
    },
  })
  const res = await post(app, { origem: 'kentro', pipeline_id: 3 })
  t.equal(res.statusCode, 202, '202')
  t.same(asked, [3], 'asked the pipeline')
  t.equal(res.json().total, 3, 'two CPFs + one opportunity without CPF')
  const final = await waitFor('batch end', done(app, res.json().lote_id))
  t.equal(final.origem, 'kentro', 'origem kentro')
  t.same(final.parametros, { pipeline_id: 3 }, 'pipeline kept')
  t.equal(final.sucessos, 2, 'two processed')
  t.equal(final.erros, 1, 'the opportunity without a CPF is an error')
  t.equal(runner.calls.size, 2, 'flow ran for the two CPFs')
})

t.test('GET /clt/lotes lists newest first with pagination; items paginate and filter by status', async (t) => {
  const { app } = await buildWithRunner(t)
  const ids: string[] = []
  for (let i = 0; i < 3; i++) {
    ids.push((await post(app, { cpfs: [...validCpfs(4, i), 'x'] })).json().lote_id)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  for (const id of ids) await waitFor('batch end', done(app, id))
  const page1 = (await get(app, '/clt/lotes?limit=2')).json()
  t.equal(page1.total, 3, 'three batches')
  t.same(page1.lotes.map((l: { lote_id: string }) => l.lote_id), [ids[2], ids[1]], 'newest first')
  t.equal(page1.lotes[0].sucessos, 4, 'list carries counts')
  const page2 = (await get(app, '/clt/lotes?limit=2&page=2')).json()
  t.same(page2.lotes.map((l: { lote_id: string }) => l.lote_id), [ids[0]], 'second page')
  const items = (await get(app, `/clt/lotes/${ids[0]}?limit=2&page=2`)).json()
  t.equal(items.itens.length, 2, 'two items on the page')
  t.same(items.itens_paginacao, { page: 2, limit: 2, total: 5 }, 'item pagination')
  t.equal(items.total, 5, 'batch total unaffected by pagination')
  const failed = (await get(app, `/clt/lotes/${ids[0]}?status=FAILED`)).json()
  t.same(failed.itens.map((i: { cpf: string }) => i.cpf), ['x'], 'status filter')
  t.equal((await get(app, '/clt/lotes?limit=500')).statusCode, 400, 'limit bounded')
})

t.test('GET /clt/lotes reads the item counts of a whole page in one query, however many batches are on it', async (t) => {
  const { db, runs } = countingDb(openDatabase(':memory:'))
  // Never started: no worker reads or writes while the list's statements are counted.
  const batches = new BatchService({ db, logger: pino({ level: 'silent' }), now: Date.now, runner: new FakeRunner(), listCpfs: async () => [], maxItems: () => 100, engine: { ...FAST_ENGINE, concurrency: 1 } })
  const app = Fastify()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerErrorHandling(app)
  await app.register(batchRoutes, { batches })
  t.teardown(async () => {
    await app.close()
    db.close()
  })
  const made: string[] = []
  for (let i = 0; i < 5; i++) made.push((await batches.create({ origem: 'lista', cpfs: [...validCpfs(i + 1, i), 'x'] })).batch.id)
  const list = async (limit: number): Promise<{ statements: number; itemReads: number; lotes: Array<Record<string, unknown>> }> => {
    const [all, items] = [runs(/./), runs(/FROM batch_items/)]
    const res = await app.inject({ method: 'GET', url: `/clt/lotes?limit=${limit}` })
    t.equal(res.statusCode, 200, `a page of ${limit}`)
    return { statements: runs(/./) - all, itemReads: runs(/FROM batch_items/) - items, lotes: res.json().lotes }
  }
  const one = await list(1)
  const five = await list(5)
  t.equal(five.lotes.length, 5, 'five batches on the page')
  t.equal(five.itemReads, 1, 'one read of batch_items for the whole page')
  t.equal(five.statements, one.statements, `as many statements for five batches as for one (${one.statements})`)
  const expected = made.map((id, i) => ({ lote_id: id, total: i + 2, pendentes: i + 1, erros: 1, processados: 1, sucessos: 0 })).reverse()
  t.match(five.lotes, expected, 'each batch with its own counts, newest first')
})

t.test('unknown batch ids answer 404', async (t) => {
  const { app } = await buildWithRunner(t)
  for (const [method, url] of [['GET', '/clt/lotes/nope'], ['GET', '/clt/lotes/nope/eventos'], ['POST', '/clt/lotes/nope/cancelar']] as const) {
    const res = await app.inject({ method, url, headers: AUTH })
    t.equal(res.statusCode, 404, `${method} ${url} → 404`)
    t.equal(res.json().error, 'lote_nao_encontrado', 'lote_nao_encontrado')
  }
})

t.test('the created message: singular, plural, invalid and repeated CPFs', async (t) => {
  t.equal(createdMessage(1, 0, 0), 'Lote criado com 1 CPF.', 'one CPF')
  t.equal(createdMessage(3, 1, 2), 'Lote criado com 3 CPFs (1 inválido, registrado como erro; 2 repetidos ignorados).', 'both notes')
})

t.test('cancel: pending items become CANCELLED, in-flight ones finish; /health counts pending and running', async (t) => {
  const runner = new FakeRunner()
  const open = runner.hold()
  const { app } = await buildWithRunner(t, { runner, config: { BATCH_CONCURRENCY: '2' } })
  const id = (await post(app, { cpfs: validCpfs(10) })).json().lote_id
  await waitFor('two in flight', () => runner.active === 2)
  const health = (await app.inject({ method: 'GET', url: '/health' })).json()
  t.same(health.checks.batches, { pending: 8, running: 2 }, '/health reports pending and running items')
  const res = await post(app, {}, `/clt/lotes/${id}/cancelar`)
  t.equal(res.statusCode, 200, '200')
  const body = res.json()
  t.equal(body.cancelados_agora, 8, 'eight cancelled')
  t.equal(body.em_andamento, 2, 'two still running')
  t.equal(body.status, 'CANCELLED', 'status CANCELLED')
  t.equal(body.finished_at, null, 'not finished while items run')
  t.equal(body.message, 'Lote cancelado: 8 CPFs não serão processados; 2 em andamento ficam com o resultado se terminarem nesta tentativa, senão são cancelados.', 'the message says what happens to the in-flight items')
  open()
  const final = await waitFor('batch end', done(app, id))
  t.equal(final.status, 'CANCELLED', 'stays CANCELLED')
  t.same([final.sucessos, final.cancelados, final.erros, final.processados], [2, 8, 0, 2], 'the in-flight ones finished, the rest cancelled')
  t.equal(runner.totalCalls(), 2, 'no cancelled item reached the flow')
  const again = await post(app, {}, `/clt/lotes/${id}/cancelar`)
  t.equal(again.json().cancelados_agora, 0, 'cancelling again is harmless')
  const other = (await post(app, { cpfs: [validCpf(0, 5)] })).json().lote_id
  await waitFor('batch end', done(app, other))
  t.match((await post(app, {}, `/clt/lotes/${other}/cancelar`)).json().message, /já estava concluído/, 'a completed batch says so')
  t.same((await app.inject({ method: 'GET', url: '/health' })).json().checks.batches, { pending: 0, running: 0 }, 'health back to zero')
})
