/**
 * Every PresençaBank contract fixture through the real client over a loopback socket: successes parse into what the
 * flow reads (both margin forms, links as received), refusals map to their codes, and no fixture is left unchecked.
 */
import t, { type Test } from 'tap'
import { ConfigStore } from '../../src/config/store.js'
import { HttpClient } from '../../src/upstream/http-client.js'
import { PresencaClient } from '../../src/upstream/presenca.js'
import { ShapeWarnings } from '../../src/upstream/shape-warnings.js'
import { testConfig } from '../fixtures/config.js'
import { contract, serveContracts, testEachContract, type ContractServer, type Envelope, type SeenRequest } from '../fixtures/contracts.js'
import { silentLogger } from '../fixtures/upstream.js'

interface Clients { presenca: PresencaClient; warnings: ShapeWarnings; server: ContractServer }
type Check = (c: Clients, e: Envelope, t: Test) => Promise<void>

const CPF = '69141797272'
const TERM = 'cb2eea83-7edd-44ac-87c1-2ffbc714f824'
const CALLS: Record<string, (c: Clients) => Promise<unknown>> = {
  'POST /login': (c) => c.presenca.testLogin(),
  'POST /consultas/termo-inss': (c) => c.presenca.createTerm({ cpf: CPF, nome: 'MARIA APARECIDA FICTICIA', telefone: '11987654321' }),
  'PUT /consultas/termo-inss/{id}': (c) => c.presenca.signTerm(TERM),
  'POST /v3/operacoes/consignado-privado/consultar-vinculos': (c) => c.presenca.vinculos(CPF),
  'POST /v3/operacoes/consignado-privado/consultar-margem': (c) => c.presenca.margem({ cpf: CPF, matricula: '4789', cnpj: '79237330000155' }),
}

const fails = (code: string, statusCode: number, extra: Record<string, unknown> = {}): Check => async (c, e, t) => {
  await t.rejects(CALLS[e.call]!(c), { code, statusCode, ...extra }, `${e.name} → ${code} (${statusCode})`)
}
const ok = (check: (value: any, t: Test, c: Clients) => void = () => undefined): Check => async (c, e, t) => {
  check(await CALLS[e.call]!(c), t, c)
}
/** The requests that were not the login. */
const calls = (c: Clients): SeenRequest[] => c.server.seen.filter((r) => r.path !== '/login')

const unsigned = fails('presencabank_termo_nao_autorizado', 422)

const EXPECT: Record<string, Check> = {
  'login.success': ok((v, t, c) => {
    t.ok(v.expires_in > 0, 'a token for the next calls (an expireAt in the past is clock skew: the assumed lifetime applies)')
    t.same(JSON.parse(c.server.seen[0]!.body), { login: 'operador_AbCd', senha: 'segredo-teste' }, 'login and senha, nothing else')
  }),
  'login.success-with-usuario': ok((v, t) => t.ok(v.expires_in > 0, 'usuario ignored, token read')),
  // expires_in is whole seconds left at the moment it is read: a second may tick between the login and the read.
  'login.success-without-expireat': ok((v, t) => t.ok(v.expires_in <= 9 * 3600 && v.expires_in >= 9 * 3600 - 5, `no expireAt: the assumed ~9 h (renewed on 401), ${v.expires_in} s left`)),
  'login.success-naive-expireat': ok((v, t) => t.ok(v.expires_in > 60 * 86_400, 'a naive expireAt is read (as UTC)')),
  'login.invalid-credentials-500': async (c, e, t) => {
    await fails('presencabank_login_recusado', 502, { message: /HTTP 500.*senha errad/ })(c, e, t)
    await t.rejects(c.presenca.vinculos(CPF), { code: 'presencabank_login_recusado' }, 'the next call gets the same refusal')
    t.equal(c.server.seen.length, 1, 'sent once: a 500 to a login that never worked is a wrong password, not an outage to retry')
    t.match(c.presenca.status(), { token_cached: false, last_error: /Login recusado/ }, 'shown as the last error')
  },
  'login.invalid-credentials-401': async (c, e, t) => {
    await fails('presencabank_login_recusado', 502, { message: /Usuário ou senha inválidos/ })(c, e, t)
    t.equal(c.server.seen.length, 1, 'not retried')
  },
  'termo-inss.success': ok((v, t, c) => {
    t.same(v, { autorizacaoId: TERM, shortUrl: 'https://sign.presen.ca/Xa9pQ2k' }, 'autorizacaoId and the signing link')
    t.same(JSON.parse(calls(c)[0]!.body), { cpf: CPF, nome: 'MARIA APARECIDA FICTICIA', telefone: '11987654321', produtoId: 28 }, 'the four fields, produtoId 28')
    t.match(calls(c)[0]!.headers, { authorization: /^Bearer \S+/ }, 'bearer token')
  }),
  'termo-inss.telefone-ja-utilizado-400': async (c, e, t) => {
    await fails('presencabank_telefone_em_uso', 422, { message: /celular do próprio cliente/ })(c, e, t)
    t.equal(calls(c).length, 1, 'a creation is never repeated by the client')
  },
  'termo-inss-assinar.success-200': ok((v, t, c) => {
    t.equal(v, 'assinado', 'signed (empty 200)')
    const put = calls(c)[0]!
    t.equal(put.method, 'PUT', 'PUT')
    t.equal(put.path, `/consultas/termo-inss/${TERM}`, 'on the term id')
    t.equal(put.headers['tenant-id'], 'superuser', 'tenant-id: superuser')
    t.match(JSON.parse(put.body), { userAgent: String, OperationalSystem: String, DeviceModel: String, DeviceName: String, DeviceType: String, GeoLocation: { Latitude: String, Longitude: String } }, 'device information, all strings')
  }),
  'termo-inss-assinar.success-200-camelcase-body': ok((v, t) => t.equal(v, 'assinado', 'signed')),
  'termo-inss-assinar.known-error-500': ok((v, t, c) => {
    t.equal(v, 'erro_conhecido', 'the known 500 leaves a usable term')
    t.equal(calls(c).length, 1, 'and is not repeated')
  }),
  'termo-inss-assinar.invalid-termoid-400': fails('presencabank_assinatura_recusada', 422, { message: /not valid for termoId/ }),
  'termo-inss-assinar.empty-body-400': fails('presencabank_assinatura_recusada', 422, { message: /non-empty request body/ }),
  'consultar-vinculos.success': ok((v, t) => t.same(v, [{ matricula: '4789', numeroInscricaoEmpregador: '79237330000155', elegivel: true }], 'one link')),
  'consultar-vinculos.success-multiple-raiz-8-digitos': ok((v, t) => {
    t.same(v.map((l: any) => [l.matricula, l.numeroInscricaoEmpregador, l.elegivel]), [['00000000000000004789', '01534551', false], ['21', '79237330000155', true]], 'kept exactly as sent (padding, 8-digit root)')
  }),
  'consultar-vinculos.empty': ok((v, t) => t.same(v, [], 'no link')),
  'consultar-vinculos.sem-autorizacao-400-message': unsigned,
  'consultar-vinculos.sem-autorizacao-400-errors-codes': unsigned,
  'consultar-vinculos.sem-autorizacao-403': unsigned,
  'consultar-vinculos.cpf-nao-encontrado-400': fails('presencabank_cpf_nao_encontrado', 422, { message: /CPF não encontrado na base/ }),
  'consultar-vinculos.virada-de-folha-400': fails('presencabank_virada_de_folha', 422),
  'consultar-vinculos.limite-de-consulta-400': async (c, e, t) => {
    await fails('presencabank_limite_de_consulta', 503, { message: /Limite de consulta/ })(c, e, t)
    await t.rejects(c.presenca.vinculos(CPF), { code: 'presencabank_limite_de_consulta' }, 'remembered')
    t.equal(calls(c).length, 1, 'the exhausted quota is not asked again at once')
  },
  'consultar-vinculos.rate-limited-429': fails('upstream_rate_limited', 503, { details: { retry_after_s: 60 } }),
  'consultar-margem.success-object': ok((v, t, c) => {
    t.same(v, { disponivel: 833.43, base: 2381.22, totalDevido: 4055.55, matricula: '4789', cnpjEmpregador: '79237330000155', dataAdmissao: '2023-05-04', dataNascimento: '1986-05-01', nomeMae: 'JOANA FICTICIA DE SOUZA', sexo: 'M', formato: 'objeto' }, 'object form')
    t.same(JSON.parse(calls(c)[0]!.body), { cpf: CPF, matricula: '4789', cnpj: '79237330000155' }, 'cpf, matricula, cnpj')
  }),
  'consultar-margem.success-array': ok((v, t) => t.match(v, { disponivel: 833.43, base: 2381.22, totalDevido: 4055.55, matricula: '4789', cnpjEmpregador: '79237330000155', sexo: 'M', formato: 'lista' }, 'array form, its own names')),
  'consultar-margem.negative-margin': ok((v, t) => t.match(v, { disponivel: -152.37, base: 1320, sexo: 'F' }, 'a negative margin is read as such')),
  'consultar-margem.zeroed-glitch': fails('presencabank_margem_indisponivel', 503),
  'consultar-margem.unauthorized-401': async (c, e, t) => {
    await fails('presencabank_nao_autorizado', 502)(c, e, t)
    t.equal(c.server.seen.filter((r) => r.path === '/login').length, 2, 'one fresh login after the first 401, then it gives up')
  },
  'consultar-margem.rate-limited-429-json-doc': fails('upstream_rate_limited', 503),
}

async function clients (t: Test): Promise<Clients> {
  const server = await serveContracts(t)
  // The contract server runs on loopback: a sandbox tenant may point there.
  const store = new ConfigStore(testConfig(6999, { SANDBOX: 'true', PRESENCABANK_URL: server.url, PRESENCABANK_LOGIN: 'operador_AbCd', PRESENCABANK_PASSWORD: 'segredo-teste', PRESENCABANK_MAX_RPM: '600' }))
  const http = new HttpClient({ logger: silentLogger, retries: 2, timeoutMs: 2000, sleep: async () => undefined })
  t.teardown(() => http.close())
  const warnings = new ShapeWarnings()
  const presenca = new PresencaClient({ http, config: () => store.get(), warnings, sleep: async () => undefined })
  return { presenca, warnings, server }
}

t.test('presenca: every fixture cites a source and meets its expectation', async (t) => {
  testEachContract(t, 'presenca', 29, EXPECT, async (e, check, t) => {
    const c = await clients(t)
    // Data calls log in first: the login answers with its own success fixture.
    c.server.use(e.call === 'POST /login' ? e : (r) => (r.path === '/login' ? contract('presenca', 'login.success') : e))
    await check(c, e, t)
    t.ok(c.server.seen.length > 0, 'went over the socket')
    t.equal(c.warnings.total, 0, 'no shape warning')
  })
})

t.test('one login serves many calls; a 401 renews it once', async (t) => {
  const c = await clients(t)
  let firstToken = true
  c.server.use((r) => {
    if (r.path === '/login') return contract('presenca', 'login.success-without-expireat')
    // The first token is refused once (expired early), the next one works.
    if (firstToken) {
      firstToken = false
      return contract('presenca', 'consultar-margem.unauthorized-401')
    }
    return contract('presenca', 'consultar-vinculos.success')
  })
  await Promise.all([c.presenca.vinculos(CPF), c.presenca.vinculos(CPF), c.presenca.vinculos(CPF)])
  t.equal(c.server.seen.filter((r) => r.path === '/login').length, 2, 'one shared login, one renewal after the 401')
})

t.test('an odd link is skipped and counted, never the whole answer', async (t) => {
  const c = await clients(t)
  const base = contract('presenca', 'consultar-vinculos.success-multiple-raiz-8-digitos')
  const body = { id: [...(base.body as { id: unknown[] }).id, { elegivel: true }] }
  c.server.use((r) => (r.path === '/login' ? contract('presenca', 'login.success') : { ...base, body }))
  const links = await c.presenca.vinculos(CPF)
  t.equal(links.length, 2, 'the two good links')
  t.equal(c.warnings.total, 1, 'the odd one counted')
})
