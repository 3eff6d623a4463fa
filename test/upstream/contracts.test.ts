/**
 * Every upstream contract fixture through our real clients over a loopback socket: success answers parse into what
 * the flow reads, error answers map to the right code and status, and no fixture is left without an expectation.
 */
import t, { type Test } from 'tap'
import { ConfigStore } from '../../src/config/store.js'
import { HttpClient } from '../../src/upstream/http-client.js'
import { KentroClient } from '../../src/upstream/kentro.js'
import { RateLimiter } from '../../src/upstream/rate-limiter.js'
import { ShapeWarnings } from '../../src/upstream/shape-warnings.js'
import type { TokenCache } from '../../src/upstream/token-cache.js'
import { passwordGrant } from '../../src/upstream/v8-auth.js'
import { parseV8Event } from '../../src/upstream/v8-events.js'
import { V8Operations, type OperationBorrower } from '../../src/upstream/v8-operations.js'
import { V8Client } from '../../src/upstream/v8.js'
import { testConfig } from '../fixtures/config.js'
import { contract, serveContracts, testEachContract, type ContractServer, type Envelope } from '../fixtures/contracts.js'
import { silentLogger } from '../fixtures/upstream.js'

type Clients = { v8: V8Client; ops: V8Operations; kentro: KentroClient; http: HttpClient; warnings: ShapeWarnings; server: ContractServer }
type Check = (c: Clients, e: Envelope, t: Test) => Promise<void>

/** A refusal: the code and tenant-API status it must become. */
const fails = (code: string, statusCode: number, extra: Record<string, unknown> = {}): Check => async (c, e, t) => {
  const call = CALLS[e.call]
  if (!call) throw new Error(`no call for ${e.call}`)
  await t.rejects(call(c), { code, statusCode, ...extra }, `${e.name} → ${code} (${statusCode})`)
}

/** What our client sent (the answer itself carries nothing: only 2xx is checked). */
const sent = (check: (r: ContractServer['seen'][number], t: Test) => void): Check => async (c, e, t) => {
  await CALLS[e.call]!(c)
  t.equal(c.server.seen.length, 1, 'sent once')
  check(c.server.seen[0]!, t)
}

/** An event V8 POSTs to us: parsed by the real parser. */
const inbound = (check: (v: ReturnType<typeof parseV8Event>, t: Test) => void): Check => async (_c, e, t) => {
  check(parseV8Event(e.request), t)
}

const ok = (check: (value: any, t: Test, c: Clients) => void = () => undefined): Check => async (c, e, t) => {
  const value = await CALLS[e.call]!(c)
  check(value, t, c)
}

const CPF = '38691815590'
const OP = '4fb8ef3f-c80d-4425-871d-c8f1c0fffeba'
/** The borrower of the PIX fixture's request: what we send must be what the callers send. */
const BORROWER = (contract('v8', 'operation.create.success').request as { borrower: OperationBorrower }).borrower
const CALLS: Record<string, (c: Clients) => Promise<unknown>> = {
  'POST /user/webhook/private-consignment/consult': (c) => c.ops.registerWebhook('consult', 'https://receiver.example.com/webhooks/v8/s3cr3t/consult'),
  'POST /user/webhook/private-consignment/operation': (c) => c.ops.registerWebhook('operation', 'https://receiver.example.com/webhooks/v8/s3cr3t/operation'),
  'POST /private-consignment/operation': (c) => c.ops.create({ simulation_id: '83c9475a-9fbd-475d-9514-fb3e968d13c2', borrower: BORROWER }),
  'GET /private-consignment/operation/{id}': (c) => c.ops.get(OP),
  'POST /private-consignment/operation/{id}/cancel': (c) => c.ops.cancel(OP, { cancel_reason: 'invalid_data:other', cancel_description: 'Cliente desistiu' }),
  'PATCH /private-consignment/operation/{id}/pendency/payment-data': (c) => c.ops.paymentData(OP, { transfer_method: 'pix', pix_key: '+5511987654321', pix_key_type: 'phone' }),
  'PATCH /private-consignment/operation/{id}/pendency/presentation': (c) => c.ops.present(OP),
  'POST /private-consignment/operation/{id}/document': (c) => c.ops.uploadDocument(OP, { type: 'identification_front', fileName: 'rg_frente.jpg', contentType: 'image/jpeg', data: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]) }),
  'GET /banks': (c) => c.ops.banks(),
  'POST https://auth.v8sistema.com/oauth/token': (c) =>
    passwordGrant(c.http, { authUrl: `${c.server.url}/oauth/token`, clientId: 'x', audience: 'https://bff.v8sistema.com', username: 'u@example.com', password: 'p' }),
  'GET /private-consignment/consult/client-data/basic/{cpf}': (c) => c.v8.clientData(CPF),
  'POST /private-consignment/consult/{id}/authorize': (c) => c.v8.authorizeConsult('b6aaa693-59a2-4851-a9ff-137627dad3ec'),
  'POST /private-consignment/consult': (c) =>
    c.v8.createConsult({
      borrowerDocumentNumber: CPF,
      gender: 'female',
      birthDate: '1990-08-06',
      signerName: 'MARIA TESTE DA SILVA',
      signerEmail: 'maria@example.com',
      signerPhone: { phoneNumber: '987654321', countryCode: '55', areaCode: '11' },
    }),
  'GET /private-consignment/consult/{id}': (c) => c.v8.getConsult('9954c898-5246-4aa6-8543-9056d3c52e86'),
  'GET /private-consignment/consult': (c) => c.v8.listConsults({ search: CPF }),
  'GET /private-consignment/simulation/configs': (c) => c.v8.simulationConfigs(),
  'POST /private-consignment/simulation': (c) => c.v8.simulate({ consult_id: 'c', config_id: 'k', number_of_installments: 24, installment_face_value: 350 }),
  'GET /private-consignment/operation': (c) => c.v8.listOperations({ startDate: '2026-04-01T00:00:00.000Z', endDate: '2026-04-30T23:59:59.000Z' }),
  'POST /int/getPipeOpportunities': (c) => c.kentro.getPipeOpportunities(4),
  'POST /int/getOpportunity': (c) => c.kentro.getOpportunity('40117'),
  'POST /int/createOpportunity': (c) => c.kentro.createOpportunity({ fkPipeline: 4, fkStage: 21, responsableid: 0, title: 'X' }),
  'POST /int/updateOpportunity': (c) => c.kentro.updateOpportunity('40117', { value: 150050 }),
  // The bare call: changeOpportunityStage also reads the opportunity back (test/upstream/kentro.test.ts, test/evidence).
  'POST /int/changeOpportunityStage': (c) => c.kentro.requestStageChange('40117', 21),
}

/** Which client call each fixture's `call` is, when the fixture names a host or a rate-limit body without a path. */
function callOf (e: Envelope): string {
  if (e.name === 'bff.error.rate-limited') return 'GET /private-consignment/consult/{id}'
  // We only ever POST; the fixture shows what a GET gets (an HTML page), which must never pass for an answer.
  if (e.call === 'GET /int/getPipeOpportunities') return 'POST /int/getPipeOpportunities'
  return e.call
}

const EXPECT: Record<string, Check> = {
  // V8 auth (Auth0)
  'auth.token.success': ok((v, t) => t.match(v, { access_token: /\S+/, token_type: 'Bearer', expires_in: 86400 }, 'token')),
  'auth.token.success-with-refresh-token': ok((v, t) => t.equal(v.expires_in, 86400, 'refresh_token ignored, token read')),
  'auth.token.invalid-grant': fails('v8_credentials_rejected', 502, { message: /Wrong email or password/ }),
  'auth.token.wrong-audience': fails('v8_audience_invalid', 502, { message: /Service not enabled/ }),
  'auth.token.unauthorized-client': fails('v8_access_denied', 502),
  'auth.token.too-many-attempts': fails('v8_login_blocked', 502),
  'auth.token.global-limit': fails('upstream_rate_limited', 503),
  // V8 BFF
  'bff.error.rate-limited': fails('upstream_rate_limited', 503),
  'client-data.basic.success': ok((v, t) => t.match(v, { name: 'MARIA TESTE DA SILVA', birthDate: /^1990-08-06/, email: /@/, gender: 'female', phoneRegionCode: '11' }, 'what V8 knows')),
  'consult.authorize.success': ok(),
  'consult.authorize.already-approved': ok(),
  'consult.create.success': ok((v, t) => t.same(v, { id: 'b6aaa693-59a2-4851-a9ff-137627dad3ec', status: 'WAITING_CONSENT', reused: false }, '{id} only: status assumed')),
  // Alone (the lookup that follows gets the same 400), the refusal goes up as V8 gave it.
  'consult.create.already-exists': fails('consult_already_exists_by_user_and_document_number', 422, { message: /consulta ativa/ }),
  'consult.create.age-minimum': fails('age_validation_minimum_age_not_reached', 422),
  'consult.create.validation-error': fails('upstream_rejected', 422, { message: /signerPhone\.phoneNumber must be a string/ }),
  'consult.detail.success': ok((v, t) =>
    t.match(v, { status: 'SUCCESS', marginBaseValue: '350.00', availableMarginValue: null, recommendedSimulationInstallmentValue: '350.00', simulationLimit: { installmentsMax: 24, valueMax: 5600.5 } }, 'detail margin fields')
  ),
  'consult.detail.pending': ok((v, t) => t.match(v, { status: 'WAITING_CONSULT', marginBaseValue: null }, 'no margin yet')),
  'consult.detail.rejected': ok((v, t) => t.match(v, { status: 'REJECTED', description: /\S/ }, 'the reason')),
  'consult.list.success': ok((v, t) => {
    t.equal(v.rows.length, 3, 'three rows')
    t.match(v.rows[0], { status: 'SUCCESS', availableMarginValue: /^\d+\.\d{2}$/ }, 'list rows carry availableMarginValue')
    t.equal(v.hasNext, false, 'pages.hasNext read')
  }),
  'consult.list.empty': ok((v, t) => t.same(v, { rows: [], hasNext: false }, 'empty')),
  'simulation.configs.wrapped': ok((v, t) => t.ok(v.length >= 2 && v.some((c: any) => c.is_insured === true) && v.every((c: any) => c.number_of_installments.every(Number.isInteger)), 'wrapped configs')),
  'simulation.configs.bare-array': ok((v, t) => t.ok(v.length >= 2 && v.some((c: any) => c.is_insured === false), 'bare configs')),
  'simulation.create.success': ok((v, t) => t.match(v, { id_simulation: /\S/, installment_value: 350, disbursement_option: { final_disbursement_amount: Number } }, 'simulation')),
  'simulation.create.success-null-disbursement-option': ok((v, t) => t.match(v, { disbursement_option: null, disbursement_amount: Number }, 'null option tolerated')),
  'simulation.create.success-disbursement-options-array': ok((v, t) => t.match(v, { disbursement_option: { final_disbursement_amount: Number } }, 'first of the options')),
  'simulation.create.error-above-margin': fails('simulation_installment_value_above_margin', 422),
  'simulation.create.error-already-exists': fails('simulation_already_exists', 422),
  'simulation.create.error-consult-operation-ongoing': fails('simulation_consult_operation_ongoing', 422),
  'simulation.create.error-installments-above-maximum': fails('simulation_installments_above_maximum', 422),
  'simulation.create.error-insurance-not-active': fails('provider_does_not_have_insurance_active', 422),
  'simulation.create.error-not-eligible': fails('simulation_not_eligible', 422),
  'simulation.create.error-target-below-minimum': fails('simulation_target_amount_below_minimum', 422),
  'operation.list.success': ok((v, t) => t.match(v[0], { operationId: /\S/, name: /\S/, documentNumber: /^\d{11}$/, disbursedIssueAmount: 1908.29, history: [{ action: 'generating_ccb' }] }, 'real row')),
  'operation.list.bare-array': ok((v, t) => t.ok(v.length > 0 && v.every((o: any) => o.operationId && o.name && o.documentNumber), 'bare array rows')),
  'operation.list.wrapped-guessed': ok((v, t, c) => {
    t.ok(v.length > 0, 'wrapped form accepted')
    t.ok(c.warnings.total > 0, 'and counted as a variant')
  }),
  'operation.list.empty': ok((v, t) => t.same(v, [], 'empty')),
  // V8 operations (proposals) and webhooks
  'webhook.register-consult.success': sent((r, t) => t.same([r.method, r.path, JSON.parse(r.body)], ['POST', '/user/webhook/private-consignment/consult', { url: 'https://receiver.example.com/webhooks/v8/s3cr3t/consult' }], '{url} to the consult path; an empty 2xx is success')),
  'webhook.register-operation.success': sent((r, t) => t.equal(r.path, '/user/webhook/private-consignment/operation', 'a separate registration for operations')),
  'operation.create.success': async (c, e, t) => {
    const v = await CALLS[e.call]!(c)
    t.same(v, { id: OP, formalizationUrl: `https://formalizacao.example.com/f/${OP}`, status: null, variant: false }, '{id, formalization_url}')
    const body = JSON.parse(c.server.seen[0]!.body)
    t.same(body, { simulation_id: '83c9475a-9fbd-475d-9514-fb3e968d13c2', provider: 'QI', borrower: BORROWER }, 'the body the callers send (snake_case borrower), provider at the top level')
  },
  'operation.create.success-ted': ok((v, t) => t.match(v, { id: 'bc48a6c8-d231-4cc0-8bed-7bb69ffbb7c6', formalizationUrl: /^https:/ }, 'TED answer read the same way')),
  'operation.create.error-400': async (c, e, t) => {
    await fails('upstream_rejected', 422, { message: /borrower\.email must be an email/ })(c, e, t)
    t.equal(c.server.seen.length, 1, 'a refused creation is not sent again')
  },
  'operation.detail.formalization': ok((v, t) => t.match(v, { id: OP, status: 'formalization', contract_url: /^https:/, contract_number: 'MAG5820193746', operation_data: { disbursed_issue_amount: 1908.29, number_of_installments: 24 } }, 'snake_case detail')),
  'operation.detail.paid': ok((v, t) => t.match(v, { status: 'paid', operation_history: Array }, 'paid detail')),
  'operation.detail.pending': ok((v, t) => t.equal(v.status, 'pending', 'pending detail')),
  'operation.cancel.success': sent((r, t) => t.same(JSON.parse(r.body), { cancel_reason: 'invalid_data:other', cancel_description: 'Cliente desistiu', provider: 'QI' }, 'cancel body with the provider')),
  'operation.cancel.error-400': fails('upstream_rejected', 422, { message: /cannot be canceled/ }),
  'operation.pendency-payment-data.success': sent((r, t) => t.same([r.method, JSON.parse(r.body)], ['PATCH', { bank: { transfer_method: 'pix', pix_key: '+5511987654321', pix_key_type: 'phone' } }], 'PATCH {bank}')),
  'operation.pendency-presentation.success': sent((r, t) => t.same([r.method, r.body], ['PATCH', ''], 'PATCH without a body')),
  'operation.document-upload.success': sent((r, t) => t.ok(/name="type"\r\n\r\nidentification_front/.test(r.body) && /name="file"; filename="rg_frente.jpg"/.test(r.body), 'multipart type + file')),
  'operation.banks-list.success': ok((v, t) => t.same(v.map((b: any) => [b.id, b.code]), [['0d6b1f2e-9a4c-4e37-8b21-5c3f7a9e2d10', '341'], ['a3c5e7f9-1b2d-4f60-8a9c-0e1f2a3b4c5d', '001']], 'id and code')),
  // Inbound: what V8 POSTs to us, through the real event parser (the receiver test sends them over a socket).
  'webhook.event.test': inbound((v, t) => t.equal(v.kind, 'test', 'handshake test')),
  'webhook.event.registered': inbound((v, t) => t.equal(v.kind, 'registered', 'handshake registered')),
  'webhook.event.consult-updated.success': inbound((v, t) => t.match(v, { kind: 'consult', consultId: /\S/, status: 'SUCCESS', availableMarginValue: '350.00', simulationLimit: { installmentsMax: 24 } }, 'consult success')),
  'webhook.event.consult-updated.rejected': inbound((v, t) => t.match(v, { kind: 'consult', status: 'REJECTED', description: 'Data de nascimento nao confere' }, 'reason')),
  'webhook.event.consult-updated.intermediate': inbound((v, t) => t.match(v, { kind: 'consult', status: 'CONSENT_APPROVED' }, 'intermediate')),
  'webhook.event.operation-created': inbound((v, t) => t.match(v, { kind: 'operation', operationId: OP, status: 'generating_ccb' }, 'operation created')),
  'webhook.event.operation-updated.paid': inbound((v, t) => t.match(v, { kind: 'operation', status: 'paid' }, 'paid')),
  'webhook.event.operation-updated.pending': inbound((v, t) => t.match(v, { kind: 'operation', status: 'pending' }, 'pending')),
  // Kentro
  'getPipeOpportunities.success-mixed': ok((v, t) => {
    t.equal(v.length, 6, 'all six opportunities read, odd fields and all')
    t.same(v.map((o: any) => o.tags), [[6], [2, 6], [], [11], [6], [2, 10]], 'tags as int[], "2,6" and ["6"] all read as numbers')
  }),
  'getPipeOpportunities.success-empty': ok((v, t) => t.same(v, [], 'empty pipeline')),
  'getPipeOpportunities.success-stage-filter': ok((v, t) => t.ok(v.length > 0, 'stage-filtered listing')),
  'getPipeOpportunities.error-missing-data': fails('upstream_rejected', 422, { message: /Missing required data/ }),
  'getPipeOpportunities.error-invalid-key': async (c, e, t) => {
    await fails('kentro_credentials_rejected', 502, { details: { codigo_kentro: 'AUTH_018' } })(c, e, t)
    t.equal(c.server.seen.length, 1, 'a refused key is not retried')
  },
  'getPipeOpportunities.error-queue-disabled': async (c, e, t) => {
    await fails('kentro_queue_disabled', 502, { details: { codigo_kentro: 'QUEUE_008' } })(c, e, t)
    t.equal(c.server.seen.length, 1, 'QUEUE_008 is permanent: not retried')
  },
  'getPipeOpportunities.error-bad-request-text': fails('upstream_rejected', 422, { message: /Bad Request/ }),
  'getPipeOpportunities.get-returns-html': fails('upstream_invalid_response', 502),
  'getOpportunity.success-open': ok((v, t) => t.match(v, { id: '40117', title: /\S/, formsdata: Object }, 'open opportunity')),
  'getOpportunity.success-closed-lost': ok((v, t) => t.equal(v.status, 2, 'a lost one is still readable')),
  'getOpportunity.success-files-objects': ok((v, t) => t.ok(Array.isArray(v.files), 'files as objects passed through')),
  'getOpportunity.error-not-found': fails('kentro_not_found', 404),
  'getOpportunity.error-missing-data': fails('upstream_rejected', 422),
  'createOpportunity.success': ok((v, t) => t.equal(v, '40455', '{id}')),
  'createOpportunity.error-missing-data': fails('upstream_rejected', 422),
  'updateOpportunity.success': ok(),
  'updateOpportunity.error-not-found': fails('kentro_not_found', 404),
  'updateOpportunity.error-missing-data': fails('upstream_rejected', 422),
  'changeOpportunityStage.success': ok(),
  'changeOpportunityStage.success-empty-body': ok(),
  'changeOpportunityStage.error-not-found': fails('kentro_not_found', 404),
  'changeOpportunityStage.error-missing-data': fails('upstream_rejected', 422),
}

async function clients (t: Test): Promise<Clients> {
  const server = await serveContracts(t)
  // The contract server runs on loopback: a sandbox tenant may point there.
  const store = new ConfigStore(testConfig(6999, { SANDBOX: 'true', V8_API_URL: server.url, KENTRO_API_URL: `${server.url}/int`, KENTRO_API_KEY: 'k', KENTRO_QUEUE_ID: '20' }))
  const http = new HttpClient({ logger: silentLogger, retries: 2, timeoutMs: 2000, sleep: async () => undefined })
  t.teardown(() => http.close())
  const warnings = new ShapeWarnings()
  const tokens = { get: async () => 'token', invalidateToken: () => undefined } as unknown as TokenCache
  const v8 = new V8Client({ http, tokens, limiter: new RateLimiter(() => 1000), config: () => store.get(), logger: silentLogger, warnings })
  const kentro = new KentroClient(http, () => store.get(), warnings)
  const ops = new V8Operations(v8, () => store.get(), warnings)
  return { v8, ops, kentro, http, warnings, server }
}

for (const upstream of ['v8', 'kentro'] as const) {
  t.test(`${upstream}: every fixture cites a source and meets its expectation`, async (t) => {
    testEachContract(t, upstream, 11, EXPECT, async (e, check, t) => {
      const c = await clients(t)
      const call = callOf(e)
      c.server.use(e)
      await check(c, { ...e, call }, t)
      if (e.direction !== 'inbound') t.ok(c.server.seen.length > 0, 'went over the socket')
    })
  })
}

t.test('consult_already_exists carries no id: the CPF’s consult is found by listing (newest first)', async (t) => {
  const c = await clients(t)
  c.server.use((r) => (r.method === 'POST' ? contract('v8', 'consult.create.already-exists') : contract('v8', 'consult.list.success')))
  const r = await CALLS['POST /private-consignment/consult']!(c)
  t.match(r, { id: '9954c898-5246-4aa6-8543-9056d3c52e86', reused: true }, 'the listed consult of this CPF is reused')
  t.equal(c.server.seen[1]?.query.get('search'), CPF, 'listed by CPF')
})

t.test('one odd opportunity in a listing is skipped and counted, never the whole call', async (t) => {
  const c = await clients(t)
  const base = contract('kentro', 'getPipeOpportunities.success-mixed')
  const body = [...(base.body as unknown[]), { title: 'no id at all' }, { id: 'abc', title: 'bad id' }]
  c.server.use({ ...base, body })
  const list = await c.kentro.getPipeOpportunities(4)
  t.equal(list.length, 6, 'the six good ones')
  t.equal(c.warnings.total, 2, 'two odd items counted')
  t.same(c.warnings.byRoute(), { 'Kentro getPipeOpportunities': 2 }, 'per route')
})

t.test('a creation answered 503 is sent once and goes up as ambiguous (the caller looks it up, never resends)', async (t) => {
  const c = await clients(t)
  c.server.use({ ...contract('v8', 'operation.create.success'), status: 503, body: { title: 'Service Unavailable' } })
  await t.rejects(CALLS['POST /private-consignment/operation']!(c), { code: 'upstream_unavailable', ambiguous: true }, 'ambiguous 503')
  t.equal(c.server.seen.length, 1, 'not retried')
})

t.test('other callers’ guesses at the create answer are read and counted: {data:{…}}, operation_id', async (t) => {
  const c = await clients(t)
  const base = contract('v8', 'operation.create.success')
  c.server.use({ ...base, body: { data: { operation_id: 'op-9', formalization_url: 'https://f.example.com/x' } } })
  t.match(await CALLS['POST /private-consignment/operation']!(c), { id: 'op-9', formalizationUrl: 'https://f.example.com/x' }, 'wrapped, other key')
  t.ok(c.warnings.total >= 1, 'counted as a variant')
})

t.test('event key variants other receivers try are read; a payload without its id is not applied', async (t) => {
  t.match(parseV8Event({ type: 'private.consignment.consult.updated', consult_id: 'c-1', status: 'success', data: { description: 'x' } }), { kind: 'consult', consultId: 'c-1', status: 'SUCCESS', description: 'x' }, 'consult_id, lower-case status, data.description')
  t.match(parseV8Event({ type: 'private.consignment.operation.updated', operation_id: 'o-1', status: 'PAID' }), { kind: 'operation', operationId: 'o-1', status: 'paid' }, 'operation_id, upper-case status')
  t.match(parseV8Event({ type: 'private.consignment.operation.updated', status: 'paid' }), { kind: 'unknown', problem: 'operationId missing' }, 'no id → unknown')
  t.match(parseV8Event([]), { kind: 'unknown' }, 'an array is not an event')
})
