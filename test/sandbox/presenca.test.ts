/** PresençaBank in the sandbox: login, term, vínculos before/after signature, margem, per-token rate cap. */
import t from 'tap'
import { http, manualClock, startSandbox } from '../fixtures/sandbox.js'

const V = '/presenca/v3/operacoes/consignado-privado'

t.test('login, term signed after the delay, vínculos and margem', async (t) => {
  const clock = manualClock()
  const sb = await startSandbox(t, { now: clock.now, consultDelayMs: 500 })
  const bad = await http(sb.url, 'POST', '/presenca/login', { json: { login: 'demo', senha: 'x' } })
  t.equal(bad.status, 401, 'wrong senha → 401')
  t.equal((await http(sb.url, 'POST', '/presenca/login', { json: { login: 'demo' } })).status, 400, 'missing senha → 400')
  const login = await http(sb.url, 'POST', '/presenca/login', { json: { login: 'demo', senha: 'sandbox' } })
  t.equal(login.status, 200, 'login → 200')
  t.type(login.body.token, 'string', 'token')
  t.ok(Date.parse(login.body.expireAt) > clock.now(), 'expireAt in the future')
  const token = login.body.token as string
  t.equal((await http(sb.url, 'POST', `${V}/consultar-vinculos`, { json: { cpf: '1' } })).status, 401, 'no token → 401')

  const [p] = await sb.people('ok', 1)
  const before = await http(sb.url, 'POST', `${V}/consultar-vinculos`, { token, json: { cpf: p!.cpf } })
  t.equal(before.status, 400, 'vínculos without a term → 400')
  t.equal(before.body.code, 'TERMO_INVALIDO_OU_AUSENTE', 'TERMO_INVALIDO_OU_AUSENTE')
  const term = await http(sb.url, 'POST', '/presenca/consultas/termo-inss', { token, json: { cpf: p!.cpf, nome: p!.nome, telefone: p!.telefone, produtoId: 28 } })
  t.equal(term.status, 200, 'term → 200')
  t.match(term.body, { autorizacaoId: String, shortUrl: /^https:\/\// }, 'term fields')
  const same = await http(sb.url, 'POST', '/presenca/consultas/termo-inss', { token, json: { cpf: p!.cpf, nome: p!.nome, telefone: p!.telefone, produtoId: 28 } })
  t.equal(same.body.autorizacaoId, term.body.autorizacaoId, 'asking again returns the same term')
  t.equal((await http(sb.url, 'POST', '/presenca/consultas/termo-inss', { token, json: { cpf: p!.cpf } })).status, 400, 'term without nome/telefone/produtoId → 400')
  t.equal((await http(sb.url, 'POST', `${V}/consultar-vinculos`, { token, json: { cpf: p!.cpf } })).body.code, 'TERMO_INVALIDO_OU_AUSENTE', 'not signed yet')
  clock.advance(500)
  const vinc = await http(sb.url, 'POST', `${V}/consultar-vinculos`, { token, json: { cpf: p!.cpf } })
  t.equal(vinc.status, 200, 'vínculos after signature → 200')
  t.match(vinc.body.id[0], { matricula: String, numeroInscricaoEmpregador: /^\d{14}$/, elegivel: true }, 'one vínculo')
  const v = vinc.body.id[0]
  const margem = await http(sb.url, 'POST', `${V}/consultar-margem`, { token, json: { cpf: p!.cpf, matricula: v.matricula, cnpj: v.numeroInscricaoEmpregador } })
  t.equal(margem.status, 200, 'margem → 200')
  t.equal(margem.body.valorMargemDisponivel, Number(p!.margin), 'same margin as V8 gives this person')
  t.ok(margem.body.valorMargemBase >= margem.body.valorMargemDisponivel, 'base ≥ available')
  t.equal((await http(sb.url, 'POST', `${V}/consultar-margem`, { token, json: { cpf: p!.cpf, matricula: '1', cnpj: v.numeroInscricaoEmpregador } })).status, 404, 'wrong matricula → 404')
  t.equal((await http(sb.url, 'POST', `${V}/consultar-margem`, { token, json: { cpf: p!.cpf } })).status, 400, 'margem without matricula/cnpj → 400')
  clock.advance(3_600_000)
  t.equal((await http(sb.url, 'POST', `${V}/consultar-vinculos`, { token, json: { cpf: p!.cpf } })).status, 401, 'token expires after an hour')
  t.ok((await sb.stats()).presenca_calls >= 10, 'calls counted')
})

t.test('requests per token per minute above presenca_rpm → 429', async (t) => {
  const clock = manualClock()
  const sb = await startSandbox(t, { now: clock.now })
  await sb.configure({ presenca_rpm: 3 })
  const token = (await http(sb.url, 'POST', '/presenca/login', { json: { login: 'demo', senha: 'sandbox' } })).body.token
  const other = (await http(sb.url, 'POST', '/presenca/login', { json: { login: 'demo', senha: 'sandbox' } })).body.token
  const call = (tk: string) => http(sb.url, 'POST', `${V}/consultar-vinculos`, { token: tk, json: { cpf: '52998224725' } })
  for (let i = 0; i < 3; i++) t.equal((await call(token)).status, 400, `call ${i + 1} admitted (no term → 400)`)
  const limited = await call(token)
  t.equal(limited.status, 429, '4th call in the minute → 429')
  t.ok(Number(limited.headers['retry-after']) > 0, 'retry-after header')
  t.equal((await call(other)).status, 400, 'another token has its own budget')
  clock.advance(60_000)
  t.equal((await call(token)).status, 400, 'next minute admitted again')
})
