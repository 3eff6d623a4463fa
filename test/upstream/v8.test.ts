import { createServer, type Server } from 'node:http'
import t from 'tap'
import { UpstreamError } from '../../src/upstream/errors.js'
import { consultRequestFor, startSandbox, type RunningSandbox } from '../fixtures/sandbox.js'
import { lastDays, servicesFor } from '../fixtures/upstream.js'
import { setTimeout as sleep } from 'node:timers/promises'

const CONSULT = '/private-consignment/consult'
const SIMULATION = '/private-consignment/simulation'

async function fastSandbox (t: { teardown(fn: () => unknown): void }): Promise<RunningSandbox> {
  const sb = await startSandbox(t)
  await sb.configure({ consult_delay_ms: 60 })
  return sb
}

t.test('testLogin: grant without caching; refusals mapped with the upstream reason', async (t) => {
  const sb = await fastSandbox(t)
  const { services, db } = servicesFor(t, sb)
  t.same(await services.v8.testLogin('other@sandbox.local', 'sandbox'), { expires_in: 86_400, token_type: 'Bearer' }, 'token info')
  t.equal(services.tokenStatus().cached, false, 'nothing cached')
  t.equal((db.prepare('SELECT count(*) AS n FROM token_cache').get() as { n: number }).n, 0, 'nothing persisted')
  const err = await services.v8.testLogin('other@sandbox.local', 'bad').catch((e: unknown) => e)
  t.match(err, { code: 'v8_credentials_rejected', statusCode: 502, details: { tipo: 'invalid_grant', motivo: 'Wrong email or password.' } }, 'wrong password')
  const { services: s2 } = servicesFor(t, sb, { config: { V8_AUDIENCE: 'https://nope' } })
  await t.rejects(s2.v8.testLogin('x@sandbox.local', 'sandbox'), { code: 'v8_audience_invalid', message: /Service not enabled within domain: https:\/\/nope/ }, 'wrong audience')
})

t.test('consult lifecycle: create, duplicate reuses, authorize (twice), get, list, find by CPF', async (t) => {
  const sb = await fastSandbox(t)
  const { services } = servicesFor(t, sb)
  const [p] = await sb.people('ok', 1)
  const created = await services.v8.createConsult(consultRequestFor(p!))
  t.match(created, { id: String, status: 'WAITING_CONSENT', reused: false }, 'created')
  const again = await services.v8.createConsult(consultRequestFor(p!))
  t.same(again, { id: created.id, status: 'WAITING_CONSENT', reused: true }, 'consult_already_exists (no id in it) → the existing one, found by listing')
  await services.v8.authorizeConsult(created.id)
  await services.v8.authorizeConsult(created.id) // consult_already_approved is success
  t.equal((await sb.stats()).authorizations, 1, 'authorized once upstream')
  await sleep(120)
  const c = await services.v8.getConsult(created.id)
  t.match(c, { id: created.id, status: 'SUCCESS', marginBaseValue: p!.margin, availableMarginValue: null, documentNumber: p!.cpf }, 'the detail: marginBaseValue as a string')
  t.ok(c.simulationLimit?.installmentsMax, 'simulationLimit parsed')
  const list = await services.v8.listConsults({ ...lastDays(), search: p!.cpf })
  t.same(list.rows.map((x) => x.id), [created.id], 'listed by CPF')
  t.equal(list.rows[0]?.availableMarginValue, p!.margin, 'the list row: availableMarginValue')
  t.equal(list.hasNext, false, 'pages.hasNext read')
  t.same((await services.v8.listConsults({ ...lastDays(), page: 2 })).rows, [], 'page 2 is empty')
  const known = await services.v8.clientData(p!.cpf)
  t.match(known, { name: p!.nome, email: p!.email }, 'client-data: what V8 knows of the person')
  const [incomplete] = await sb.people('incomplete', 1)
  t.equal(await services.v8.clientData(incomplete!.cpf), undefined, 'an unknown person: undefined, not an error')
  const formatted = `${p!.cpf.slice(0, 3)}.${p!.cpf.slice(3, 6)}.${p!.cpf.slice(6, 9)}-${p!.cpf.slice(9)}`
  t.equal((await services.v8.findLatestConsultByCpf(formatted))?.id, created.id, 'found by (formatted) CPF')
  const [other] = await sb.people('ok', 2).then((x) => x.slice(1))
  t.equal(await services.v8.findLatestConsultByCpf(other!.cpf), undefined, 'none for another CPF')
  t.equal((await sb.stats()).consults_by_cpf[p!.cpf], 1, 'one consult in the sandbox')
  await t.rejects(services.v8.getConsult('00000000-0000-4000-a000-000000000000'), { code: 'v8_not_found', statusCode: 404 }, 'unknown consult → 404')
  await t.rejects(services.v8.authorizeConsult('00000000-0000-4000-a000-000000000000'), { code: 'v8_not_found' }, 'authorize unknown → 404')
})

t.test('business refusals keep V8’s type as code, 422, with type and text in details', async (t) => {
  const sb = await fastSandbox(t)
  const { services } = servicesFor(t, sb)
  const [p] = await sb.people('ok', 1)
  const young = await services.v8.createConsult({ ...consultRequestFor(p!), birthDate: `${new Date().getUTCFullYear() - 10}-01-01` }).catch((e: unknown) => e)
  t.ok(young instanceof UpstreamError, 'an UpstreamError')
  t.match(young, { code: 'age_validation_minimum_age_not_reached', statusCode: 422, details: { tipo: 'age_validation_minimum_age_not_reached', status_upstream: 400 } }, 'age refusal')
  const bad = await services.v8.createConsult({ ...consultRequestFor(p!), signerEmail: 'not-an-email' }).catch((e: unknown) => e)
  t.match(bad, { code: 'validation_error', statusCode: 422, message: /signerEmail/ }, "validation error with V8's own text")
})

t.test('simulation configs (object or bare array), simulate, its refusals', async (t) => {
  const sb = await fastSandbox(t)
  const { services } = servicesFor(t, sb)
  const configs = await services.v8.simulationConfigs()
  t.ok(configs.length > 0 && configs.every((c) => c.number_of_installments.every((n) => typeof n === 'number')), 'configs with numeric installment counts')
  await sb.configure({ configs_shape: 'array' })
  const { services: fresh } = servicesFor(t, sb)
  t.same(await fresh.v8.simulationConfigs(), configs, 'bare array gives the same configs')

  const [p] = await sb.people('ok', 1)
  const { id } = await services.v8.createConsult(consultRequestFor(p!))
  await services.v8.authorizeConsult(id)
  await sleep(120)
  const consult = await services.v8.getConsult(id)
  const n = consult.simulationLimit!.installmentsMax!
  const config = configs.find((c) => !c.is_insured && c.number_of_installments.includes(n))!
  const sim = await services.v8.simulate({ consult_id: id, config_id: config.id, number_of_installments: n, installment_face_value: Number(consult.marginBaseValue) })
  t.match(sim, { id_simulation: String, number_of_installments: n, installment_value: Number(consult.marginBaseValue), disbursement_option: { cet: Number } }, 'simulation parsed')
  const insured = configs.find((c) => c.is_insured)!
  await t.rejects(services.v8.simulate({ consult_id: id, config_id: insured.id, number_of_installments: n, installment_face_value: 10 }), { code: 'provider_does_not_have_insurance_active', statusCode: 422 }, 'an insured table refused')
  const above = configs.flatMap((c) => c.number_of_installments).find((k) => k > n)
  if (above !== undefined) {
    const cfg = configs.find((c) => !c.is_insured && c.number_of_installments.includes(above))!
    await t.rejects(
      services.v8.simulate({ consult_id: id, config_id: cfg.id, number_of_installments: above, installment_face_value: 10 }),
      { code: 'simulation_installments_above_maximum', statusCode: 422 },
      'above the maximum installments'
    )
  }
  await t.rejects(
    services.v8.simulate({ consult_id: id, config_id: config.id, number_of_installments: n, installment_face_value: 999_999 }),
    { code: 'simulation_installment_value_above_margin', statusCode: 422, details: { motivo: /above the available margin/ } },
    'above the margin'
  )
  const [poor] = await sb.people('no_margin', 1)
  const c2 = await services.v8.createConsult(consultRequestFor(poor!))
  await services.v8.authorizeConsult(c2.id)
  await sleep(120)
  await t.rejects(services.v8.simulate({ consult_id: c2.id, config_id: config.id, number_of_installments: 12, disbursed_amount: 1000 }), { code: 'simulation_not_eligible' }, 'no margin → not eligible')
})

t.test('operations: a bare array of real rows; data and items accepted', async (t) => {
  const sb = await fastSandbox(t)
  const { services } = servicesFor(t, sb)
  const range = lastDays(60)
  const data = await services.v8.listOperations({ ...range, limit: 100 })
  t.ok(data.length > 5, `operations listed (${data.length})`)
  t.match(data[0], { operationId: String, status: String, name: String, documentNumber: /^\d{11}$/, history: [{ action: String }] }, 'real row fields')
  for (const shape of ['items', 'data'] as const) {
    await sb.configure({ operations_shape: shape })
    t.same((await services.v8.listOperations({ ...range, limit: 100 })).map((o) => o.operationId), data.map((o) => o.operationId), `${shape} shape accepted`)
  }
  t.ok(services.shapeWarnings.total >= 2, 'wrapped forms are counted as variants')
})

t.test('provider and URLs come from the config at call time', async (t) => {
  const sb = await fastSandbox(t)
  const { services, store } = servicesFor(t, sb, { config: { V8_PROVIDER: 'CELCOIN' } })
  const [p] = await sb.people('ok', 1)
  const { id } = await services.v8.createConsult(consultRequestFor(p!))
  t.same((await services.v8.listConsults(lastDays())).rows.map((c) => c.id), [id], 'listed with provider CELCOIN')
  store.update({ V8_PROVIDER: 'QI' })
  t.same((await services.v8.listConsults(lastDays())).rows, [], 'a saved provider applies to the next call (QI sees none)')
})

t.test('injected 503/429/timeouts on GETs are retried through the client and succeed', async (t) => {
  const sb = await fastSandbox(t)
  const { services } = servicesFor(t, sb, { upstreamTimeoutMs: 400 })
  await services.tokens.get()
  await sb.faults([
    { status: 503, routes: ['/private-consignment/operation'], count: 1 },
    { status: 429, retry_after_s: 1, routes: ['/private-consignment/operation'], count: 1 },
    { mode: 'timeout', routes: ['/private-consignment/operation'], count: 1 },
  ])
  const ops = await services.v8.listOperations(lastDays(60))
  t.ok(ops.length > 0, 'succeeded')
  t.equal((await sb.stats()).routes['GET /private-consignment/operation'], 4, '503 + 429 + timeout + success')
})

t.test('a 429 on a POST is upstream_rate_limited (503 to our caller, Retry-After kept), sent once', async (t) => {
  const sb = await fastSandbox(t)
  const { services } = servicesFor(t, sb)
  const [p] = await sb.people('ok', 1)
  await sb.faults({ status: 429, retry_after_s: 7, routes: [CONSULT], methods: ['POST'], count: 1 })
  const err = await services.v8.createConsult(consultRequestFor(p!)).catch((e: unknown) => e)
  t.match(err, { code: 'upstream_rate_limited', statusCode: 503, details: { retry_after_s: 7 }, message: /7 s/ }, 'mapped')
  t.equal((err as UpstreamError).ambiguous, false, 'not ambiguous: nothing was created')
  t.equal((await sb.stats()).routes[`POST ${CONSULT}`], 1, 'sent once')
})

for (const fault of [
  { name: 'connection reset', rule: { mode: 'reset' as const } },
  { name: 'timeout', rule: { mode: 'timeout' as const } },
  { name: '503', rule: { status: 503 as const } },
]) {
  t.test(`consult creation whose answer is lost (${fault.name}, after V8 acted) → the existing consult, no duplicate`, async (t) => {
    const sb = await fastSandbox(t)
    const { services } = servicesFor(t, sb, { upstreamTimeoutMs: 500 })
    const [p] = await sb.people('ok', 1)
    await sb.faults({ ...fault.rule, phase: 'after', routes: [CONSULT], methods: ['POST'], count: 1 })
    const got = await services.v8.createConsult(consultRequestFor(p!))
    t.equal(got.reused, true, 'looked up instead of created again')
    const stats = await sb.stats()
    t.equal(stats.consults_by_cpf[p!.cpf], 1, 'exactly one consult for the CPF in the sandbox')
    t.equal(stats.routes[`POST ${CONSULT}`], 1, 'the creation was sent once')
    const [only] = (await services.v8.listConsults({ ...lastDays(), search: p!.cpf })).rows
    t.equal(got.id, only?.id, 'the id is the consult V8 created')
  })
}

t.test('a lost creation that V8 never acted on: the ambiguous error goes up; the next call creates exactly one', async (t) => {
  const sb = await fastSandbox(t)
  const { services } = servicesFor(t, sb)
  const [p] = await sb.people('ok', 1)
  await sb.faults({ mode: 'reset', routes: [CONSULT], methods: ['POST'], count: 1 })
  const err = await services.v8.createConsult(consultRequestFor(p!)).catch((e: unknown) => e)
  t.match(err, { code: 'upstream_unavailable', statusCode: 503, ambiguous: true }, 'ambiguous error after an empty lookup')
  const got = await services.v8.createConsult(consultRequestFor(p!))
  t.equal(got.reused, false, 'created on the next call')
  t.equal((await sb.stats()).consults_by_cpf[p!.cpf], 1, 'one consult')
})

t.test('simulate is never repeated by the client: an ambiguous failure goes up', async (t) => {
  const sb = await fastSandbox(t)
  const { services } = servicesFor(t, sb)
  const [p] = await sb.people('ok', 1)
  const { id } = await services.v8.createConsult(consultRequestFor(p!))
  await services.v8.authorizeConsult(id)
  await sleep(120)
  const consult = await services.v8.getConsult(id)
  const config = (await services.v8.simulationConfigs()).find((c) => !c.is_insured && c.number_of_installments.includes(12))!
  await sb.faults({ status: 503, phase: 'after', routes: [SIMULATION], methods: ['POST'], count: 1 })
  const err = await services.v8.simulate({ consult_id: id, config_id: config.id, number_of_installments: 12, installment_face_value: Number(consult.marginBaseValue) / 2 }).catch((e: unknown) => e)
  t.match(err, { code: 'upstream_unavailable', ambiguous: true, transient: true }, 'ambiguous, transient')
  const stats = await sb.stats()
  t.equal(stats.routes[`POST ${SIMULATION}`], 1, 'sent once')
  t.equal(stats.simulations_created, 1, 'V8 holds one quote')
})

t.test('V8 not configured: v8_not_configured without any request', async (t) => {
  const sb = await fastSandbox(t)
  const { services } = servicesFor(t, sb, { config: { V8_PASSWORD: '' } })
  await t.rejects(services.v8.listOperations(lastDays()), { code: 'v8_not_configured', statusCode: 503, message: /\/config-v8/ }, 'clear error')
  const stats = await sb.stats()
  t.same(stats.routes, {}, 'no upstream call')
})

t.test('V8_MAX_RPS caps the BFF calls per second', async (t) => {
  const sb = await fastSandbox(t)
  const { services } = servicesFor(t, sb, { config: { V8_MAX_RPS: '5' } })
  await services.tokens.get()
  const started = Date.now()
  await Promise.all(Array.from({ length: 8 }, () => services.v8.listOperations(lastDays())))
  const ms = Date.now() - started
  t.ok(ms >= 950, `8 calls at 5/s take at least a second (${ms} ms)`)
})

t.test('a surprising answer shape is upstream_invalid_response (502), not undefined deep inside', async (t) => {
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    if (req.url?.startsWith('/oauth/token')) return res.end(JSON.stringify({ access_token: 'tok', token_type: 'Bearer', expires_in: 3600 }))
    if (req.url?.startsWith('/private-consignment/simulation/configs')) return res.end(JSON.stringify({ configs: 'none' }))
    if (req.url?.startsWith('/private-consignment/consult/')) return res.end(JSON.stringify({ id: 42 }))
    if (req.url?.startsWith('/private-consignment/operation')) return res.end('<html>maintenance</html>')
    res.end('{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const sb = await fastSandbox(t)
  const { services } = servicesFor(t, sb, { config: { V8_AUTH_URL: `${base}/oauth/token`, V8_API_URL: base } })
  await t.rejects(services.v8.simulationConfigs(), { code: 'upstream_invalid_response', statusCode: 502, message: /configs/ }, 'configs not a list')
  await t.rejects(services.v8.getConsult('abc'), { code: 'upstream_invalid_response', statusCode: 502 }, 'consult without status')
  await t.rejects(services.v8.listOperations(lastDays()), { code: 'upstream_invalid_response' }, 'HTML instead of JSON')
  await t.rejects(services.v8.createConsult(consultRequestFor((await sb.people('ok', 1))[0]!)), { code: 'upstream_invalid_response' }, 'creation answer without id')
})
