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
import { V8Client } from '../../src/upstream/v8.js'
import { testConfig } from '../fixtures/config.js'
import { contract, loadContracts, serveContracts, type ContractServer, type Envelope } from '../fixtures/contracts.js'
import { silentLogger } from '../fixtures/upstream.js'

type Clients = { v8: V8Client; kentro: KentroClient; http: HttpClient; warnings: ShapeWarnings; server: ContractServer }
type Check = (c: Clients, e: Envelope, t: Test) => Promise<void>

/** A refusal: the code and tenant-API status it must become. */
const fails = (code: string, statusCode: number, extra: Record<string, unknown> = {}): Check => async (c, e, t) => {
  const call = CALLS[e.call]
  if (!call) throw new Error(`no call for ${e.call}`)
  await t.rejects(call(c), { code, statusCode, ...extra }, `${e.name} → ${code} (${statusCode})`)
}

const ok = (check: (value: any, t: Test, c: Clients) => void = () => undefined): Check => async (c, e, t) => {
  const value = await CALLS[e.call]!(c)
  check(value, t, c)
}

const CPF = '38691815590'
const CALLS: Record<string, (c: Clients) => Promise<unknown>> = {
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
  'POST /int/changeOpportunityStage': (c) => c.kentro.changeOpportunityStage('40117', 21),
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
  return { v8, kentro, http, warnings, server }
}

for (const upstream of ['v8', 'kentro'] as const) {
  t.test(`${upstream}: every fixture cites a source and meets its expectation`, async (t) => {
    const all = loadContracts(upstream)
    t.ok(all.length > 10, `${all.length} fixtures`)
    for (const e of all) {
      t.test(e.name, async (t) => {
        // A repository file, a file the code index holds under no nameable repository (its note says which), or a public page.
        t.ok(e.sources.length > 0 && e.sources.every((s) => s.path || s.repo), 'cites public sources')
        const check = EXPECT[e.name]
        if (!check) return t.fail(`no expectation for fixture ${e.name}`)
        const c = await clients(t)
        const call = callOf(e)
        c.server.use(e)
        await check(c, { ...e, call }, t)
        t.ok(c.server.seen.length > 0, 'went over the socket')
      })
    }
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
