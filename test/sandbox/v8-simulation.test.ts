/** V8 BFF simulation configs (insured first), simulations (PMT math, refusals, answer variants) and operations (real rows) in the sandbox. */
import t from 'tap'
import { consultBodyFor, http, manualClock, startSandbox, v8Token, type SandboxPerson } from '../fixtures/sandbox.js'

const CONSULT = '/private-consignment/consult'
const SIM = '/private-consignment/simulation'

async function setup (t: { teardown(fn: () => unknown): void }) {
  const clock = manualClock()
  const sb = await startSandbox(t, { now: clock.now, consultDelayMs: 0 })
  const token = await v8Token(sb.url)
  const all = (await http(sb.url, 'GET', `${SIM}/configs`, { token })).body.configs
  /** The tables without insurance (the insured one is refused for the sandbox partner). */
  const configs = all.filter((c: { is_insured: boolean }) => !c.is_insured)
  /** A consult for the person, authorized and finished. */
  const consultOf = async (p: SandboxPerson, authorize = true): Promise<string> => {
    const c = await http(sb.url, 'POST', CONSULT, { token, json: consultBodyFor(p) })
    if (authorize) await http(sb.url, 'POST', `${CONSULT}/${c.body.id}/authorize`, { token, json: {} })
    clock.advance(1)
    return c.body.id
  }
  return { sb, clock, token, all, configs, consultOf }
}

t.test('configs: object by default, bare array when configured; insured tables first', async (t) => {
  const { sb, token, all, configs, consultOf } = await setup(t)
  t.ok(Array.isArray(all) && all.length >= 2, 'object shape has configs[]')
  t.match(all[0], { id: String, slug: /seguro/, is_insured: true, monthly_interest_rate: /^\d+\.\d+$/ }, 'an insured table first, as V8 lists them')
  t.match(configs[0], { is_insured: false, slug: String }, 'then tables without insurance')
  t.ok(all[0].number_of_installments.includes('24') && all[0].number_of_installments.every((n: unknown) => typeof n === 'string'), 'installments as strings')
  await sb.configure({ configs_shape: 'array' })
  const bare = await http(sb.url, 'GET', `${SIM}/configs`, { token })
  t.ok(Array.isArray(bare.body), 'bare array shape')
  t.same(bare.body, all, 'same configs either way')
  const [p] = await sb.people('ok', 1)
  const id = await consultOf(p!)
  const insured = { consult_id: id, config_id: all[0].id, number_of_installments: 24, provider: 'QI', installment_face_value: 50 }
  const refused = await http(sb.url, 'POST', SIM, { token, json: insured })
  t.match(refused, { status: 400, body: { type: 'provider_does_not_have_insurance_active' } }, 'an insured table for a partner without insurance')
  await sb.configure({ insurance_active: true })
  t.match(await http(sb.url, 'POST', SIM, { token, json: insured }), { status: 201, body: { is_insured: true, insurance_amount: Number } }, 'fine once insurance is active')
})

t.test('simulation by installment value and by disbursed amount: PMT-consistent numbers', async (t) => {
  const { sb, token, configs, consultOf } = await setup(t)
  const [p] = await sb.people('ok', 1)
  const id = await consultOf(p!)
  const margin = Number(p!.margin)
  const res = await http(sb.url, 'POST', SIM, { token, json: { consult_id: id, config_id: configs[0].id, number_of_installments: 24, provider: 'QI', installment_face_value: margin } })
  t.equal(res.status, 201, 'simulation created')
  const s = res.body
  const keys = [
    'id_simulation', 'installment_value', 'number_of_installments', 'operation_amount', 'issue_amount', 'disbursement_amount', 'disbursed_issue_amount', 'monthly_interest_rate',
    'iof_amount', 'first_installment_date', 'is_insured', 'insurance_amount', 'simulation_config_id', 'simulation_config_slug', 'disbursement_option', 'provider',
  ]
  t.same(Object.keys(s).sort(), keys.sort(), 'documented fields')
  t.equal(s.installment_value, margin, 'installment = the face value asked')
  const r = Number(configs[0].monthly_interest_rate) / 100
  const pv = (margin * (1 - Math.pow(1 + r, -24))) / r
  t.ok(Math.abs(s.issue_amount - pv) < 0.01, `issue amount is the PV of the installments (${s.issue_amount} vs ${pv.toFixed(2)})`)
  t.ok(s.disbursement_amount < s.issue_amount, 'IOF comes off the disbursement')
  t.ok(Math.abs(s.issue_amount - s.disbursement_option.iof_amount - s.disbursement_amount) < 0.011, 'issue − IOF = disbursement')
  t.ok(s.disbursement_option.cet > (Math.pow(1 + r, 12) - 1) * 100, 'CET above the nominal annual rate')
  t.match(s.first_installment_date, /^\d{4}-\d{2}-\d{2}$/, 'first installment date')
  const byAmount = await http(sb.url, 'POST', SIM, { token, json: { consult_id: id, config_id: configs[0].id, number_of_installments: 12, provider: 'QI', disbursed_amount: 1000 } })
  t.equal(byAmount.status, 201, 'by disbursed amount')
  t.ok(Math.abs(byAmount.body.disbursement_amount - 1000) < 0.02, 'the borrower receives what was asked')
  t.ok(byAmount.body.installment_value <= margin, 'fits the margin')
  t.equal((await sb.stats()).simulations_created, 2, 'simulations counted')
  const [, p1, p2] = await sb.people('ok', 3)
  const variant = async (q: SandboxPerson) => (await http(sb.url, 'POST', SIM, { token, json: { consult_id: await consultOf(q), config_id: configs[0].id, number_of_installments: 12, provider: 'QI', installment_face_value: 20 } })).body
  t.match(await variant(p1!), { disbursement_option: null, disbursement_amount: Number }, 'person #1: disbursement_option null')
  const v2 = await variant(p2!)
  t.ok(!('disbursement_option' in v2) && v2.disbursement_options?.[0]?.final_disbursement_amount > 0, 'person #2: disbursement_options[]')
})

t.test('simulation refusals', async (t) => {
  const { sb, token, configs, consultOf } = await setup(t)
  const ok = await sb.people('ok', 4)
  const capped = ok[3]!
  t.equal(capped.installmentsMax, 18, 'person #3 caps at 18')
  const cappedId = await consultOf(capped)
  const sim = (body: Record<string, unknown>) => http(sb.url, 'POST', SIM, { token, json: { config_id: configs[0].id, provider: 'QI', ...body } })
  const above = await sim({ consult_id: cappedId, number_of_installments: 24, installment_face_value: 50 })
  t.equal(above.status, 400, '24 installments for an 18-max person → 400')
  t.equal(above.body.type, 'simulation_installments_above_maximum', 'simulation_installments_above_maximum')
  t.equal((await sim({ consult_id: cappedId, number_of_installments: 12, installment_face_value: 50 })).status, 201, '12 works for the same person')
  const okId = await consultOf(ok[0]!)
  const over = await sim({ consult_id: okId, number_of_installments: 24, installment_face_value: Number(ok[0]!.margin) + 0.01 })
  t.equal(over.body.type, 'simulation_installment_value_above_margin', 'installment above margin')
  const tooMuch = await sim({ consult_id: okId, number_of_installments: 6, disbursed_amount: 1_000_000 })
  t.equal(tooMuch.body.type, 'simulation_installment_value_above_margin', 'a disbursed amount needing more than the margin')
  const [nm] = await sb.people('no_margin', 1)
  const noMargin = await sim({ consult_id: await consultOf(nm!), number_of_installments: 12, installment_face_value: 10 })
  t.equal(noMargin.body.type, 'simulation_not_eligible', 'margin 0 → simulation_not_eligible')
  const pending = await sim({ consult_id: await consultOf(ok[1]!, false), number_of_installments: 12, installment_face_value: 10 })
  t.equal(pending.body.type, 'simulation_not_eligible', 'a consult still waiting for consent → simulation_not_eligible')
  t.equal((await sim({ consult_id: 'nope', number_of_installments: 12, installment_face_value: 10 })).status, 404, 'unknown consult → 404')
  t.equal((await sim({ consult_id: okId, config_id: 'nope', number_of_installments: 12, installment_face_value: 10 })).body.type, 'simulation_config_not_found', 'unknown config')
  t.equal((await sim({ consult_id: okId, number_of_installments: 12 })).body.type, 'validation_error', 'neither value nor amount → validation_error')
  t.equal((await sim({ consult_id: okId, number_of_installments: 12, installment_face_value: 10, disbursed_amount: 100 })).body.type, 'validation_error', 'both → validation_error')
  t.equal((await sim({ consult_id: okId, number_of_installments: 7, installment_face_value: 10 })).body.type, 'validation_error', 'an installment count outside the config')
  const other = await v8Token(sb.url, 'outra@corban.local')
  t.equal((await http(sb.url, 'POST', SIM, { token: other, json: { consult_id: okId, config_id: configs[0].id, provider: 'QI', number_of_installments: 12, installment_face_value: 10 } })).status, 404, "another login cannot simulate this login's consult")
  const twice = { consult_id: okId, number_of_installments: 12, installment_face_value: 20 }
  t.equal((await sim(twice)).status, 201, 'first identical simulation')
  t.equal((await sim(twice)).status, 201, 'duplicates allowed by default')
  await sb.configure({ reject_duplicate_simulations: true })
  const dup = await sim(twice)
  t.equal(dup.status, 400, 'duplicates refused when configured')
  t.equal(dup.body.type, 'simulation_already_exists', 'simulation_already_exists')
})

t.test('operations: 30 real rows over the last 60 days, filters, paging and the three shapes', async (t) => {
  const { sb, clock, token } = await setup(t)
  const OPS = '/private-consignment/operation'
  const all = await http(sb.url, 'GET', `${OPS}?limit=100&page=1`, { token })
  t.equal(all.status, 200, '200')
  const ops = all.body
  t.equal(ops.length, 30, '30 operations')
  const now = clock.now()
  t.ok(ops.every((o: { createdAt: string }) => now - Date.parse(o.createdAt) <= 61 * 86_400_000 && Date.parse(o.createdAt) <= now), 'all within the last 60 days')
  const statuses = new Set(ops.map((o: { status: string }) => o.status))
  t.same([...statuses].sort(), ['analysis', 'canceled', 'formalization', 'generating_ccb', 'paid', 'pending', 'processing', 'rejected'], 'varied statuses')
  t.match(ops[0], {
    operationId: /^[0-9a-f-]{36}$/,
    contractNumber: String,
    name: String,
    documentNumber: /^\d{11}$/,
    issueAmount: null,
    disbursedIssueAmount: /^\d+\.\d{2}$/,
    partnerId: String,
    history: [{ action: 'generating_ccb', created_at: String }],
  }, 'real row fields')
  t.notOk('id' in ops[0] || 'borrower' in ops[0] || 'provider' in ops[0], 'no id, borrower{} or provider in a row')
  const again = await http(sb.url, 'GET', `${OPS}?limit=100`, { token })
  t.same(again.body, ops, 'deterministic')
  const week = await http(sb.url, 'GET', `${OPS}?startDate=${new Date(now - 7 * 86_400_000).toISOString()}&endDate=${new Date(now).toISOString()}`, { token })
  t.ok(week.body.length > 0 && week.body.length < 30, 'date window narrows the list')
  const celcoin = await http(sb.url, 'GET', `${OPS}?provider=CELCOIN&limit=100`, { token })
  t.ok(celcoin.body.length > 0 && celcoin.body.length < 30, 'provider filter')
  const seen: string[] = []
  for (let page = 1; page < 10; page++) {
    const res = await http(sb.url, 'GET', `${OPS}?limit=7&page=${page}`, { token })
    if (res.body.length === 0) break
    seen.push(...res.body.map((o: { operationId: string }) => o.operationId))
  }
  t.equal(new Set(seen).size, 30, 'paging visits all 30')
  await sb.configure({ operations_shape: 'items' })
  t.same((await http(sb.url, 'GET', `${OPS}?limit=100`, { token })).body.items, ops, 'items shape')
  await sb.configure({ operations_shape: 'data' })
  t.same((await http(sb.url, 'GET', `${OPS}?limit=100`, { token })).body.data, ops, 'data shape')
  t.equal((await http(sb.url, 'GET', `${OPS}?limit=500`, { token })).status, 400, 'limit above 100 → 400')
  t.equal((await http(sb.url, 'GET', OPS)).status, 401, 'needs a token')
})
