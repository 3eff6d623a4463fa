import t from 'tap'
import { testConfig } from '../fixtures/config.js'
import { PresencaClient } from '../../src/upstream/presenca.js'
import { startSandbox } from '../fixtures/sandbox.js'
import { httpClientFor, servicesFor } from '../fixtures/upstream.js'

const LOGIN = 'POST /presenca/login'
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

t.test('term → vínculos → margem, with one shared login', async (t) => {
  const sb = await startSandbox(t)
  await sb.configure({ consult_delay_ms: 100 })
  const { services } = servicesFor(t, sb)
  const [p] = await sb.people('ok', 1)
  t.equal(services.presenca.configured, true, 'configured from the tenant config')
  const term = await services.presenca.requestTerm({ cpf: p!.cpf, nome: p!.nome, telefone: p!.telefone, produtoId: 1 })
  t.match(term, { autorizacaoId: String, shortUrl: /^https:/ }, 'term requested')
  await t.rejects(services.presenca.vinculos(p!.cpf), { code: 'termo_invalido_ou_ausente', statusCode: 422, details: { tipo: 'TERMO_INVALIDO_OU_AUSENTE' } }, 'unsigned term refused with its code')
  await sleep(150)
  const all = await Promise.all(Array.from({ length: 5 }, () => services.presenca.vinculos(p!.cpf)))
  const [v] = all[0]!
  t.match(v, { matricula: String, numeroInscricaoEmpregador: String }, 'a vínculo')
  const margem = await services.presenca.margem({ cpf: p!.cpf, matricula: v!.matricula, cnpj: v!.numeroInscricaoEmpregador })
  t.equal(typeof margem.valorMargemDisponivel, 'number', 'margin as a number')
  await t.rejects(services.presenca.margem({ cpf: p!.cpf, matricula: 'x', cnpj: '0' }), { code: 'presenca_not_found', statusCode: 404 }, 'unknown vínculo → 404')
  t.equal((await sb.stats()).routes[LOGIN], 1, 'one login for every call (cached until expireAt)')
})

t.test('a refused login is not repeated within the window; saving new credentials clears it', async (t) => {
  const sb = await startSandbox(t)
  const { services, store } = servicesFor(t, sb, { config: { PRESENCABANK_PASSWORD: 'bad-pass-456' } })
  const err = await services.presenca.vinculos('52998224725').catch((e: unknown) => e)
  t.match(err, { code: 'presenca_credentials_rejected', statusCode: 502, message: /Login ou senha inválidos/ }, 'mapped with its reason')
  t.notOk(String((err as Error).message).includes('bad-pass-456'), 'no password in the message')
  await Promise.allSettled(Array.from({ length: 5 }, () => services.presenca.vinculos('52998224725')))
  t.equal((await sb.stats()).routes[LOGIN], 1, 'one login attempt for 6 calls')
  store.update({ PRESENCABANK_PASSWORD: 'sandbox' })
  await services.presenca.requestTerm({ cpf: '52998224725', nome: 'X', telefone: '11987654321', produtoId: 1 })
  t.equal((await sb.stats()).routes[LOGIN], 2, 'the saved password is tried at once')
})

t.test('not configured: presenca_not_configured, no request', async (t) => {
  const sb = await startSandbox(t)
  const { services } = servicesFor(t, sb, { config: { PRESENCABANK_LOGIN: '' } })
  t.equal(services.presenca.configured, false, 'configured: false')
  await t.rejects(services.presenca.vinculos('52998224725'), { code: 'presenca_not_configured', statusCode: 503 }, 'clear error')
  t.same((await sb.stats()).routes, {}, 'nothing sent')
})

t.test("the client keeps to its per-minute budget; PresençaBank's own 429 becomes upstream_rate_limited", async (t) => {
  const sb = await startSandbox(t)
  const http = httpClientFor(t)
  const config = testConfig(6999, sb.tenantConfig())
  const client = new PresencaClient(http, () => config, Date.now, { perMinute: 3 })
  const body = { cpf: '52998224725', nome: 'X', telefone: '11987654321', produtoId: 1 }
  await client.requestTerm(body) // login + 1
  await client.requestTerm(body) // 3rd of 3
  const ac = new AbortController()
  let settled = false
  const fourth = client.requestTerm(body, ac.signal).finally(() => (settled = true))
  await sleep(200)
  t.equal(settled, false, 'the 4th call waits for the window')
  ac.abort(new Error('gave up'))
  await t.rejects(fourth, { message: 'gave up' }, 'and can be abandoned')
  t.equal((await sb.stats()).presenca_calls, 3, 'three requests reached PresençaBank')

  await sb.configure({ presenca_rpm: 1 })
  const { services } = servicesFor(t, sb)
  await services.presenca.requestTerm(body)
  const err = await services.presenca.requestTerm(body).catch((e: unknown) => e)
  t.match(err, { code: 'upstream_rate_limited', statusCode: 503, upstream: 'PresençaBank', details: { retry_after_s: Number } }, "PresençaBank's 429")
})
