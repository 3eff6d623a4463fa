/** PresençaBank over HTTP: the flow route's answers and statuses, the status route, mensagem-whatsapp, /health, the config overview. */
import t from 'tap'
import { presencaApp } from '../fixtures/presenca.js'

const FLOW = '/clt/fluxo-completo-precencabank'

t.test('eligible with margin: 200 with the old route’s fields; status, WhatsApp text and /health follow', async (t) => {
  const c = await presencaApp(t)
  const health0 = (await c.app.inject({ method: 'GET', url: '/health' })).json()
  t.match(health0.checks.presencabank, { configured: true, token_cached: false, last_error: null, per_minute: 30 }, '/health before any call')
  const [p] = await c.sb.people('ok', 1)
  const res = await c.post(FLOW, { cpf: p!.cpf.replace(/^(\d{3})(\d{3})(\d{3})(\d{2})$/, '$1.$2.$3-$4'), valor: 1000 })
  t.equal(res.statusCode, 200, '200')
  const body = res.json()
  t.match(body, {
    success: true,
    status: 'CONCLUIDO',
    origem: 'PRESENCABANK',
    elegivel: true,
    vinculos: [{ matricula: String, numeroInscricaoEmpregador: String, elegivel: true }],
    margem: { disponivel: Number(p!.margin), base: Number },
    termo: { id: String, link: /^https:\/\/sign\.presen\.ca\//, assinatura: 'assinado', autorizado: true },
    dados_validados: { nome: p!.nome, telefone: p!.telefone },
  }, '{success, elegivel, vinculos, margem:{disponivel, base}, termo:{id, link}}')
  t.notOk(JSON.stringify(body).includes('sandbox'), 'no credential in the answer')

  const status = await c.get(`/clt/status-precencabank/${p!.cpf}`)
  t.equal(status.statusCode, 200, 'status 200')
  t.match(status.json(), { success: true, origem: 'PRESENCABANK', status: 'CONCLUIDO', etapa: 'finalizado', dados: { cpf: p!.cpf, status: 'CONCLUIDO', ultimaAtualizacao: String, resultado: { margem: { disponivel: Number(p!.margin) } } } }, 'the older status shape')

  const msg = await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })
  t.equal(msg.statusCode, 200, 'message 200')
  t.match(msg.json(), { banco: 'presencabank', status: 'margem_disponivel', mensagem: /Margem disponível: \*R\$ [\d.]+,\d{2}\*/ }, 'the margin in the text')

  const health = (await c.app.inject({ method: 'GET', url: '/health' })).json()
  t.match(health.checks.presencabank, { configured: true, token_cached: true, expires_in: Number, last_error: null }, '/health: token cached')
  t.same(health.precencabank, { cache: { total: 1, processando: 0, concluidos: 1, erros: 0 }, endpoints: { fluxoCompleto: '/clt/fluxo-completo-precencabank', status: '/clt/status-precencabank/:cpf' } }, "and the older system's block")
  t.ok(health.checks.presencabank.expires_in > 30_000, 'for about 10 h')
  const overview = (await c.get('/config/tenant')).json()
  t.match(overview.presencabank, { configurado: true, senha: '***', estado: { token_em_cache: true, ultimo_erro: null, limite_por_minuto: 30 } }, 'the config overview shows its state')
})

t.test('verdicts: not eligible, no links, no margin → 200 success:false with the reason', async (t) => {
  const c = await presencaApp(t)
  const [rejected] = await c.sb.people('rejected', 1)
  const [noLinks] = await c.sb.people('no_links', 1)
  const [noMargin] = await c.sb.people('no_margin', 1)
  for (const [p, code, elegivel] of [[rejected!, 'nao_elegivel', false], [noLinks!, 'sem_vinculo', false], [noMargin!, 'sem_margem', true]] as const) {
    const res = await c.post(FLOW, { cpf: p.cpf })
    t.equal(res.statusCode, 200, `${code}: 200`)
    t.match(res.json(), { success: false, error: code, message: /\S/, elegivel, status: 'CONCLUIDO' }, `${code}: success:false, elegivel ${elegivel}`)
  }
  t.match((await c.post('/clt/mensagem-whatsapp', { cpf: rejected!.cpf })).json(), { status: 'nao_elegivel', mensagem: /não está elegível/ }, 'not eligible text')
  t.match((await c.post('/clt/mensagem-whatsapp', { cpf: noMargin!.cpf })).json(), { status: 'sem_margem' }, 'no margin text')
  t.match((await c.app.inject({ method: 'GET', url: '/health' })).json().precencabank.cache, { total: 3, concluidos: 3, erros: 0 }, 'verdicts count as finished')
})

t.test('waiting for the client’s signature: 202 with the link; the WhatsApp text carries it; then it resumes', async (t) => {
  const c = await presencaApp(t)
  await c.sb.configure({ presenca_self_sign: false })
  const [p] = await c.sb.people('ok', 1)
  const res = await c.post(FLOW, { cpf: p!.cpf })
  t.equal(res.statusCode, 202, '202')
  t.ok(Number(res.headers['retry-after']) > 0, 'Retry-After')
  const link = res.json().termo.link as string
  t.match(res.json(), { success: true, pendente: true, status: 'PROCESSANDO', etapa: 'aguardando_assinatura', message: /assinar pelo link/ }, 'pending')
  t.match((await c.get(`/clt/status-precencabank/${p!.cpf}`)).json(), { status: 'PROCESSANDO', etapa: 'aguardando_assinatura' }, 'status PROCESSANDO')
  const msg = (await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })).json()
  t.equal(msg.status, 'aguardando_assinatura', 'waiting for the signature')
  t.ok(msg.mensagem.includes(link), 'with the link')
  await c.sb.presencaSign(p!.cpf)
  const again = await c.post(FLOW, { cpf: p!.cpf })
  t.equal(again.statusCode, 200, 'signed: 200')
  t.equal(again.json().termo.id, res.json().termo.id, 'same term')
  t.equal((await c.sb.stats()).presenca_terms_created, 1, 'one term')
})

t.test('request problems: 422 dados_faltantes / telefone_em_uso / cpf_invalido; 404 for a CPF never asked', async (t) => {
  const c = await presencaApp(t, { config: { KENTRO_API_URL: '', V8_USERNAME: '' } })
  const [p, q] = await c.sb.people('ok', 2)
  const missing = await c.post(FLOW, { cpf: p!.cpf })
  t.equal(missing.statusCode, 422, '422')
  t.match(missing.json(), { success: false, error: 'dados_faltantes', details: { campos: ['nome', 'telefone'] } }, 'lists what is missing')
  t.equal((await c.post(FLOW, { cpf: p!.cpf, dados_cliente: { nome: p!.nome, telefone: p!.telefone } })).statusCode, 200, 'given by the caller: 200')
  const taken = await c.post(FLOW, { cpf: q!.cpf, dados_cliente: { nome: q!.nome, telefone: p!.telefone } })
  t.equal(taken.statusCode, 422, 'a phone of another client: 422')
  t.match(taken.json(), { error: 'telefone_em_uso', details: { campos: ['telefone'] } }, 'telefone_em_uso')
  t.match((await c.post('/clt/mensagem-whatsapp', { cpf: q!.cpf })).json(), { status: 'dados_faltantes', mensagem: /próprio celular/ }, 'the text asks for the own phone')
  t.match((await c.post(FLOW, { cpf: '123.456.789-00' })).json(), { error: 'cpf_invalido' }, 'bad CPF: cpf_invalido')
  t.equal((await c.get('/clt/status-precencabank/52998224725')).statusCode, 404, 'never asked: 404')
})

t.test('not configured: 409 presencabank_nao_configurado on the flow, the status and a batch', async (t) => {
  const c = await presencaApp(t, { config: { PRESENCABANK_PASSWORD: '' } })
  const flow = await c.post(FLOW, { cpf: '52998224725' })
  t.same([flow.statusCode, flow.json().error], [409, 'presencabank_nao_configurado'], 'flow 409')
  t.equal((await c.get('/clt/status-precencabank/52998224725')).statusCode, 409, 'status 409')
  const batch = await c.post('/clt/lotes', { cpfs: ['52998224725'], banco: 'presencabank' })
  t.same([batch.statusCode, batch.json().error], [409, 'presencabank_nao_configurado'], 'batch refused at creation')
  const health = (await c.app.inject({ method: 'GET', url: '/health' })).json()
  t.match(health.checks.presencabank, { configured: false }, '/health says so')
  t.notOk('precencabank' in health, 'and has no older block')
  t.equal((await c.sb.stats()).presenca_calls, 0, 'nothing sent')
})

t.test('PresençaBank down or refusing: 502/503/504 with the reason; a wrong password is a clear 502', async (t) => {
  const c = await presencaApp(t, { upstreamTimeoutMs: 300 })
  const [p] = await c.sb.people('ok', 1)
  await c.sb.faults({ status: 503, routes: ['/presenca'] })
  const down = await c.post(FLOW, { cpf: p!.cpf })
  t.equal(down.statusCode, 503, '503')
  t.match(down.json(), { success: false, error: 'upstream_unavailable', message: /PresençaBank indisponível.*503/ }, 'with the reason')
  await c.sb.faults({ mode: 'timeout', routes: ['/presenca/login'] })
  const slow = await c.post(FLOW, { cpf: p!.cpf })
  t.same([slow.statusCode, slow.json().error], [504, 'upstream_timeout'], 'no answer: 504')
  await c.sb.clearFaults()
  c.store.update({ PRESENCABANK_PASSWORD: 'errada-456' })
  const refused = await c.post(FLOW, { cpf: p!.cpf })
  t.equal(refused.statusCode, 502, '502')
  t.match(refused.json(), { error: 'presencabank_login_recusado', message: /Login recusado pelo PresençaBank.*HTTP 500/ }, 'login recusado, not an outage')
  t.notOk(refused.body.includes('errada-456'), 'no password in the answer')
  const check = await c.post('/config/presencabank/verificar', {})
  t.same([check.statusCode, check.json().error], [502, 'presencabank_login_recusado'], 'the config page’s check says the same')
  t.match((await c.app.inject({ method: 'GET', url: '/health' })).json().checks.presencabank, { token_cached: false, last_error: /Login recusado/ }, '/health shows the last error')
  t.equal((await c.sb.stats()).presenca_login_failures, 1, 'PresençaBank saw one wrong login for three asks')
  c.store.update({ PRESENCABANK_PASSWORD: 'sandbox' })
  const fixed = await c.post('/config/presencabank/verificar', {})
  t.match([fixed.statusCode, fixed.json()], [200, { success: true, expires_in: Number }], 'a saved fix works at once')
})

t.test('mensagem-whatsapp: the newest of the two banks, or the one asked for', async (t) => {
  const c = await presencaApp(t)
  // V8's consult moves on the sandbox clock, which only PresençaBank's waits advance here: no delay.
  await c.sb.configure({ consult_delay_ms: 0 })
  const [p] = await c.sb.people('ok', 1)
  t.equal((await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })).statusCode, 404, 'nothing yet: 404')
  t.equal((await c.post('/clt/fluxo-completo', { cpf: p!.cpf })).statusCode, 200, 'V8 flow')
  c.clock.advance(1000)
  t.equal((await c.post(FLOW, { cpf: p!.cpf })).statusCode, 200, 'then PresençaBank')
  t.equal((await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })).json().banco, 'presencabank', 'newest: PresençaBank')
  t.match((await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf, banco: 'v8' })).json(), { banco: 'v8', status: 'oferta' }, 'asked for V8')
  t.equal((await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf, banco: 'outro' })).statusCode, 400, 'unknown bank: 400')
})
