/** PresençaBank in the sandbox: the real shapes (login, term create + sign, links, both margin forms), the population, the per-login cap. */
import t from 'tap'
import { http, manualClock, startSandbox, type RunningSandbox } from '../fixtures/sandbox.js'

const V = '/presenca/v3/operacoes/consignado-privado'
const DEVICE = {
  userAgent: 'teste',
  OperationalSystem: 'linux',
  DeviceModel: 'Server',
  DeviceName: 'Teste',
  DeviceType: 'Backend',
  GeoLocation: { Latitude: '0', Longitude: '0' },
}

async function login (sb: RunningSandbox, senha = 'sandbox'): Promise<{ status: number; body: any }> {
  return http(sb.url, 'POST', '/presenca/login', { json: { login: '00000000000_demo', senha } })
}

async function token (sb: RunningSandbox): Promise<string> {
  return (await login(sb)).body.token as string
}

t.test('login: token with expireAt (ISO, naive or none); a wrong password is HTTP 500 with no body', async (t) => {
  const clock = manualClock()
  const sb = await startSandbox(t, { now: clock.now })
  const bad = await login(sb, 'errada')
  t.equal(bad.status, 500, 'wrong senha → 500, as callers report')
  t.equal(bad.body, null, 'no body')
  t.equal((await http(sb.url, 'POST', '/presenca/login', { json: { login: 'x' } })).body.errors.Senha[0], 'The Senha field is required.', 'missing senha → ProblemDetails')
  const ok = await login(sb)
  t.match(ok.body, { token: String, expireAt: /Z$/, usuario: {} }, 'token, expireAt, usuario')
  t.equal(Date.parse(ok.body.expireAt) - clock.now(), 36_000_000, 'about 10 h')
  await sb.configure({ presenca_expire_at: 'naive' })
  t.match((await login(sb)).body.expireAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, 'naive: no offset')
  await sb.configure({ presenca_expire_at: 'none' })
  t.notOk('expireAt' in (await login(sb)).body, 'none: no expireAt')
  const tk = ok.body.token as string
  clock.advance(36_000_000)
  const expired = await http(sb.url, 'POST', `${V}/consultar-vinculos`, { token: tk, json: { cpf: '52998224725' } })
  t.equal(expired.status, 401, 'an expired token → 401')
  t.equal(expired.body, null, 'with an empty body')
  t.match((await sb.stats()), { presenca_logins: 3, presenca_login_failures: 1 }, 'counted')
})

t.test('term → sign (PUT) → links → margin, with the refusals in between', async (t) => {
  const clock = manualClock()
  const sb = await startSandbox(t, { now: clock.now })
  await sb.configure({ presenca_sign_delay_ms: 1000, presenca_margin_shape: 'object' })
  const tk = await token(sb)
  const [p] = await sb.people('ok', 1)
  t.equal(p!.presenca, 'eligible', 'an eligible person')
  const before = await http(sb.url, 'POST', `${V}/consultar-vinculos`, { token: tk, json: { cpf: p!.cpf } })
  t.same([before.status, before.body], [400, { message: 'Não foi possível retornar a consulta, é necessario uma autorização válida' }], 'no term → 400 with the real text')
  const body = { cpf: p!.cpf, nome: p!.nome, telefone: p!.telefone, produtoId: 28 }
  const term = await http(sb.url, 'POST', '/presenca/consultas/termo-inss', { token: tk, json: body })
  t.match(term.body, { autorizacaoId: /^[0-9a-f-]{36}$/, shortUrl: /^https:\/\/sign\.presen\.ca\/\w+$/ }, '{autorizacaoId, shortUrl}')
  const id = term.body.autorizacaoId as string
  t.equal((await http(sb.url, 'POST', `${V}/consultar-vinculos`, { token: tk, json: { cpf: p!.cpf } })).status, 400, 'created but not signed → still 400')
  const put = (json: unknown, headers: Record<string, string> = {}) => http(sb.url, 'PUT', `/presenca/consultas/termo-inss/${id}`, { token: tk, json, headers })
  t.equal((await put({})).body.errors[''][0], 'A non-empty request body is required.', 'empty device body → ProblemDetails')
  t.ok((await put({ ...DEVICE, GeoLocation: null })).body.errors.GeoLocation, 'GeoLocation must be an object')
  t.equal((await http(sb.url, 'PUT', '/presenca/consultas/termo-inss/nao-e-um-guid', { token: tk, json: DEVICE })).body.errors.termoId[0], "The value 'nao-e-um-guid' is not valid for termoId.", 'not a GUID')
  const camel = { userAgent: 'x', operationalSystem: 'a', deviceModel: 'b', deviceName: 'c', deviceType: 'd', geoLocation: { latitude: '1', longitude: '2' } }
  const signed = await put(camel, { 'tenant-id': 'superuser' })
  t.same([signed.status, signed.body], [200, null], 'camelCase names bind too (case-insensitive): 200, empty')
  t.equal((await http(sb.url, 'POST', `${V}/consultar-vinculos`, { token: tk, json: { cpf: p!.cpf } })).status, 400, 'just signed: not accepted yet')
  clock.advance(1000)
  const links = await http(sb.url, 'POST', `${V}/consultar-vinculos`, { token: tk, json: { cpf: p!.cpf } })
  t.equal(links.status, 200, 'accepted after the delay')
  t.match(links.body, { id: [{ matricula: /^\d+$/, numeroInscricaoEmpregador: /^\d{14}$/, elegivel: true, cpf: p!.cpf }] }, '{id:[…]} with the 4 fields')
  const l = links.body.id[0]
  const margem = await http(sb.url, 'POST', `${V}/consultar-margem`, { token: tk, json: { cpf: p!.cpf, matricula: l.matricula, cnpj: l.numeroInscricaoEmpregador } })
  t.match(margem.body, {
    valorMargemDisponivel: Number(p!.margin),
    valorMargemBase: Number,
    valorTotalDevido: Number,
    registroEmpregaticio: l.matricula,
    cnpjEmpregador: l.numeroInscricaoEmpregador,
    dataAdmissao: /^\d{4}-\d{2}-\d{2}$/,
    dataNascimento: p!.data_nascimento,
    nomeMae: String,
    sexo: p!.sexo === 'M' ? 'Masculino' : 'Feminino',
  }, 'the object form, real names')
  t.notOk('nome' in margem.body, 'no name in the margin (callers say it does not come)')
  await sb.configure({ presenca_margin_shape: 'array' })
  const arr = await http(sb.url, 'POST', `${V}/consultar-margem`, { token: tk, json: { cpf: p!.cpf, matricula: l.matricula, cnpj: l.numeroInscricaoEmpregador } })
  t.match(arr.body, [{ valorMargem: Number(p!.margin), valorMargemAvaliavel: Number(p!.margin), valorBaseMargem: Number, valorTotalVencimentos: Number, matricula: l.matricula, numeroInscricaoEmpregador: l.numeroInscricaoEmpregador }], 'the array form, its names')
  t.equal((await http(sb.url, 'POST', `${V}/consultar-margem`, { token: tk, json: { cpf: p!.cpf, matricula: '1', cnpj: l.numeroInscricaoEmpregador } })).status, 400, 'unknown link → 400')
  const other = await sb.people('ok', 2)
  const taken = await http(sb.url, 'POST', '/presenca/consultas/termo-inss', { token: tk, json: { ...body, cpf: other[1]!.cpf } })
  t.same([taken.status, taken.body], [400, { errors: ['Telefone já utilizado em termo para outro cliente.'] }], "another CPF with this CPF's phone → 400")
  const again = await http(sb.url, 'POST', '/presenca/consultas/termo-inss', { token: tk, json: body })
  t.not(again.body.autorizacaoId, id, 'a second creation is a second term (the tenant must not make one)')
  t.equal((await sb.stats()).presenca_terms_by_cpf[p!.cpf], 2, 'terms counted per CPF')
})

t.test('the refusal without a signed term in its three forms; a login without self-signing waits for the link', async (t) => {
  const sb = await startSandbox(t)
  await sb.configure({ presenca_sign_delay_ms: 0 })
  const tk = await token(sb)
  const [p] = await sb.people('ok', 1)
  const ask = () => http(sb.url, 'POST', `${V}/consultar-vinculos`, { token: tk, json: { cpf: p!.cpf } })
  await sb.configure({ presenca_unsigned: 'codes' })
  t.same((await ask()).body, { errors: ['Não foi possível retornar a consulta, é necessario uma autorização válida'], errorCodes: ['TERMO_INVALIDO_OU_AUSENTE'] }, 'errors + errorCodes')
  await sb.configure({ presenca_unsigned: '403' })
  t.same([(await ask()).status, (await ask()).body], [403, null], 'bare 403')
  await sb.configure({ presenca_self_sign: false })
  const term = await http(sb.url, 'POST', '/presenca/consultas/termo-inss', { token: tk, json: { cpf: p!.cpf, nome: p!.nome, telefone: p!.telefone, produtoId: 28 } })
  t.equal((await http(sb.url, 'PUT', `/presenca/consultas/termo-inss/${term.body.autorizacaoId}`, { token: tk, json: DEVICE })).status, 403, 'PUT refused for this login')
  t.equal((await ask()).status, 403, 'still not authorized')
  await sb.presencaSign(p!.cpf)
  t.equal((await ask()).status, 200, 'the client signed through the link')
  await sb.configure({ presenca_self_sign: true, presenca_sign_glitch: true })
  const [q] = await sb.people('ok', 2).then((x) => x.slice(1))
  const t2 = await http(sb.url, 'POST', '/presenca/consultas/termo-inss', { token: tk, json: { cpf: q!.cpf, nome: q!.nome, telefone: q!.telefone, produtoId: 28 } })
  const glitch = await http(sb.url, 'PUT', `/presenca/consultas/termo-inss/${t2.body.autorizacaoId}`, { token: tk, json: DEVICE })
  t.same([glitch.status, glitch.body], [500, { message: 'An error ocurred' }], 'the known 500')
  t.equal((await http(sb.url, 'POST', `${V}/consultar-vinculos`, { token: tk, json: { cpf: q!.cpf } })).status, 200, 'after which the term works')
})

t.test('the population: eligible with margin, without margin (zero or negative), not eligible, not in the base, no links', async (t) => {
  const sb = await startSandbox(t)
  await sb.configure({ presenca_sign_delay_ms: 0, presenca_rpm: 1000 })
  const tk = await token(sb)
  const outcome = async (cpf: string, nome: string, telefone: string): Promise<{ links: any; margins: number[] }> => {
    const term = await http(sb.url, 'POST', '/presenca/consultas/termo-inss', { token: tk, json: { cpf, nome, telefone, produtoId: 28 } })
    await http(sb.url, 'PUT', `/presenca/consultas/termo-inss/${term.body.autorizacaoId}`, { token: tk, json: DEVICE })
    const links = await http(sb.url, 'POST', `${V}/consultar-vinculos`, { token: tk, json: { cpf } })
    const margins: number[] = []
    for (const l of links.body?.id ?? []) {
      const m = await http(sb.url, 'POST', `${V}/consultar-margem`, { token: tk, json: { cpf, matricula: l.matricula, cnpj: l.numeroInscricaoEmpregador } })
      margins.push(Array.isArray(m.body) ? m.body[0].valorMargem : m.body.valorMargemDisponivel)
    }
    return { links, margins }
  }
  for (const p of await sb.people('ok', 5)) {
    const r = await outcome(p.cpf, p.nome, p.telefone)
    t.ok(r.margins.some((m) => m > 0), `ok #${p.cpf.slice(-2)}: an eligible link with margin`)
  }
  const fifth = (await sb.people('ok', 5))[4]!
  const multi = await http(sb.url, 'POST', `${V}/consultar-vinculos`, { token: tk, json: { cpf: fifth.cpf } })
  t.match(multi.body.id, [{ elegivel: false, numeroInscricaoEmpregador: /^\d{8}$/, matricula: /^0{5,}\d+$/ }, { elegivel: true }], 'every 5th ok person also has an old ineligible link (8-digit root, padded matrícula)')
  const noMargin = await sb.people('no_margin', 2)
  t.same(noMargin.map((p) => p.presenca), ['eligible_no_margin', 'eligible_no_margin'], 'listed as eligible_no_margin')
  const m0 = await outcome(noMargin[0]!.cpf, noMargin[0]!.nome, noMargin[0]!.telefone)
  const m1 = await outcome(noMargin[1]!.cpf, noMargin[1]!.nome, noMargin[1]!.telefone)
  t.same(m0.margins, [0], 'zero margin')
  t.ok(m1.margins[0]! < 0, `negative margin (${m1.margins[0]})`)
  const rejected = await sb.people('rejected', 2)
  t.same(rejected.map((p) => p.presenca), ['not_eligible', 'cpf_not_found'], 'two ways of not being eligible')
  t.match((await outcome(rejected[0]!.cpf, rejected[0]!.nome, rejected[0]!.telefone)).links.body, { id: [{ elegivel: false }] }, 'a link, not eligible')
  const nf = await outcome(rejected[1]!.cpf, rejected[1]!.nome, rejected[1]!.telefone)
  t.same([nf.links.status, nf.links.body], [400, { errors: ['CPF não encontrado na base'] }], 'CPF not in the base')
  const [none] = await sb.people('no_links', 1)
  t.same((await outcome(none!.cpf, none!.nome, none!.telefone)).links.body, { id: [] }, 'no links: {"id": []}')
})

t.test('requests per LOGIN per minute above presenca_rpm → 429 with Retry-After; faults apply to /presenca too', async (t) => {
  const clock = manualClock()
  const sb = await startSandbox(t, { now: clock.now })
  await sb.configure({ presenca_rpm: 3 })
  const a = await token(sb)
  const b = await token(sb)
  const call = (tk: string) => http(sb.url, 'POST', `${V}/consultar-vinculos`, { token: tk, json: { cpf: '52998224725' } })
  for (let i = 0; i < 2; i++) t.equal((await call(a)).status, 400, `call ${i + 1} admitted`)
  t.equal((await call(b)).status, 400, 'third call, with a second token of the same login, admitted')
  const limited = await call(b)
  t.equal(limited.status, 429, 'the 4th of the login in the minute → 429, whichever token')
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After')
  clock.advance(60_000)
  t.equal((await call(a)).status, 400, 'next minute admitted again')
  await sb.faults({ status: 503, routes: ['/presenca/v3'], count: 1 })
  t.same([(await call(a)).status, (await call(a)).status], [503, 400], 'a fault on the PresençaBank routes, once')
  t.equal((await sb.stats()).presenca_rate_limited, 1, 'counted')
})
