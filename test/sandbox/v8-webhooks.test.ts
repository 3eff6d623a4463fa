/** The sandbox's V8 webhooks (registration handshake, consult and operation events, drop/duplicate/replay, redelivery) and operations (create, detail, cancel, pendencies, documents, banks). */
import t from 'tap'
import { request } from 'undici'
import { startReceiver, type Receiver } from '../fixtures/receiver.js'
import { consultBodyFor, http, manualClock, startSandbox, v8Token, type RunningSandbox, type SandboxPerson } from '../fixtures/sandbox.js'
import { waitFor } from '../fixtures/batches.js'

const CONSULT = '/private-consignment/consult'
const OPS = '/private-consignment/operation'

async function setup (t: { teardown(fn: () => unknown): void }) {
  const clock = manualClock()
  const sb = await startSandbox(t, { now: clock.now, consultDelayMs: 1000, operationDelayMs: 1000 })
  const token = await v8Token(sb.url)
  const rx = await startReceiver(t)
  return { sb, clock, token, rx }
}

const types = (rx: Receiver): string[] => rx.received.map((r) => `${r.json?.type}${r.json?.status ? `:${r.json.status}` : ''}`)

/** A consult for the person, authorized; then a simulation of it; returns both ids. */
async function simulated (sb: RunningSandbox, token: string, clock: { advance(ms: number): void }, p: SandboxPerson): Promise<{ consultId: string; simulationId: string }> {
  const c = await http(sb.url, 'POST', CONSULT, { token, json: consultBodyFor(p) })
  await http(sb.url, 'POST', `${CONSULT}/${c.body.id}/authorize`, { token, json: {} })
  clock.advance(1500)
  const configs = (await http(sb.url, 'GET', '/private-consignment/simulation/configs', { token })).body.configs.filter((x: { is_insured: boolean }) => !x.is_insured)
  const sim = await http(sb.url, 'POST', '/private-consignment/simulation', { token, json: { consult_id: c.body.id, config_id: configs[0].id, number_of_installments: 12, provider: 'QI', installment_face_value: 50 } })
  if (sim.status !== 201) throw new Error(`simulation ${sim.status}`)
  return { consultId: c.body.id, simulationId: sim.body.id_simulation }
}

function borrowerFor (p: SandboxPerson): Record<string, unknown> {
  return {
    name: p.nome,
    email: p.email,
    phone: { country_code: '55', area_code: p.telefone.slice(0, 2), number: p.telefone.slice(2) },
    political_exposition: false,
    address: { street: 'RUA A', number: '10', complement: '', neighborhood: 'CENTRO', city: 'SAO PAULO', state: 'SP', postal_code: '01001000' },
    birth_date: p.data_nascimento,
    mother_name: 'MARIA DA SILVA',
    nationality: 'brazilian',
    document_issuer: 'SSP',
    gender: p.sexo === 'M' ? 'male' : 'female',
    person_type: 'natural',
    marital_status: 'single',
    individual_document_number: p.cpf,
    document_identification_date: '2015-03-10',
    document_identification_type: 'rg',
    document_identification_number: '301234567',
    bank: { transfer_method: 'pix', pix_key: p.cpf, pix_key_type: 'cpf' },
  }
}

t.test('registration: V8 tests the URL before accepting it, answers an empty 2xx, then confirms', async (t) => {
  const { sb, token, rx } = await setup(t)
  const res = await http(sb.url, 'POST', '/user/webhook/private-consignment/consult', { token, json: { url: `${rx.url}/hook/consult` } })
  t.equal(res.status, 200, 'registered')
  t.equal(res.body, null, 'no body (callers only check 2xx)')
  t.same(rx.received.map((r) => r.json.type), ['webhook.test'], 'the test POST came before the answer')
  await sb.webhooks()
  t.same(types(rx), ['webhook.test', 'webhook.registered'], 'then webhook.registered')
  t.equal(rx.received[1]!.path, '/hook/consult', 'to the registered URL, path kept')
  t.notOk(rx.received[0]!.headers['authorization'] ?? rx.received[0]!.headers['x-v8-signature'], 'no credentials or signature, as V8 sends none')
  rx.answer(500)
  const refused = await http(sb.url, 'POST', '/user/webhook/private-consignment/operation', { token, json: { url: `${rx.url}/hook/operation` } })
  t.match(refused, { status: 400, body: { type: 'webhook_test_failed' } }, 'a URL that fails the test is not accepted')
  t.match(await http(sb.url, 'POST', '/user/webhook/private-consignment/operation', { token, json: { url: 'not a url' } }), { status: 400 }, 'bad url')
  t.equal((await http(sb.url, 'POST', '/user/webhook/private-consignment/consult', { json: { url: rx.url } })).status, 401, 'needs a token')
})

t.test('consult events after authorize: intermediate statuses, SUCCESS with margin and limits, REJECTED with the reason', async (t) => {
  const { sb, clock, token, rx } = await setup(t)
  await http(sb.url, 'POST', '/user/webhook/private-consignment/consult', { token, json: { url: rx.url } })
  const [ok] = await sb.people('ok', 1)
  const [bad] = await sb.people('rejected', 1)
  const a = await http(sb.url, 'POST', CONSULT, { token, json: consultBodyFor(ok!) })
  const b = await http(sb.url, 'POST', CONSULT, { token, json: consultBodyFor(bad!) })
  await sb.webhooks()
  t.same(types(rx), ['webhook.test', 'webhook.registered'], 'nothing before authorize')
  await http(sb.url, 'POST', `${CONSULT}/${a.body.id}/authorize`, { token, json: {} })
  await http(sb.url, 'POST', `${CONSULT}/${b.body.id}/authorize`, { token, json: {} })
  await sb.webhooks()
  t.same(types(rx).slice(2), ['private.consignment.consult.updated:CONSENT_APPROVED', 'private.consignment.consult.updated:CONSENT_APPROVED'], 'consent approved at once')
  clock.advance(2000)
  const { events } = await sb.webhooks()
  const success = rx.received.find((r) => r.json.consultId === a.body.id && r.json.status === 'SUCCESS')
  t.match(success?.json, { type: 'private.consignment.consult.updated', availableMarginValue: ok!.margin, admissionDateMonthsDifference: Number, simulationLimit: { installmentsMax: ok!.installmentsMax, valueMax: Number } }, 'SUCCESS carries the margin and limits')
  t.notOk('documentNumber' in (success?.json ?? {}), 'no CPF in the event')
  t.match(rx.received.find((r) => r.json.consultId === b.body.id && r.json.status === 'REJECTED')?.json, { description: 'Data de nascimento nao confere' }, 'REJECTED carries the reason')
  t.ok(events.every((e) => e.result === 'delivered'), 'all delivered')
})

t.test('faults: drop the next event, duplicate the next, replay an old one after newer ones', async (t) => {
  const { sb, clock, token, rx } = await setup(t)
  await http(sb.url, 'POST', '/user/webhook/private-consignment/consult', { token, json: { url: rx.url } })
  await sb.webhooks()
  const [p] = await sb.people('ok', 1)
  const c = await http(sb.url, 'POST', CONSULT, { token, json: consultBodyFor(p!) })
  await sb.webhookFaults({ drop_next: 1, duplicate_next: 1 })
  await http(sb.url, 'POST', `${CONSULT}/${c.body.id}/authorize`, { token, json: {} })
  await sb.webhooks()
  clock.advance(2000)
  const { events } = await sb.webhooks()
  const mine = events.filter((e) => e.ref === c.body.id)
  t.equal(mine[0]?.result, 'dropped', 'the first was dropped')
  t.ok(mine.some((e) => e.duplicated), 'one was sent twice')
  const success = mine.find((e) => e.status === 'SUCCESS')!
  t.equal(rx.received.filter((r) => r.json.status === 'SUCCESS').length, success.duplicated ? 2 : 1, 'the receiver saw the duplicate')
  const before = rx.received.length
  await sb.replay(mine[1]!.seq)
  t.equal(rx.received.length, before + 1, 'replayed')
  t.equal(rx.received.at(-1)!.json.status, mine[1]!.status, 'an older status arrives after SUCCESS')
})

t.test('a receiver answering 5xx gets the event again until it takes it', async (t) => {
  const { sb, token, rx } = await setup(t)
  await http(sb.url, 'POST', '/user/webhook/private-consignment/consult', { token, json: { url: rx.url } })
  await sb.webhooks()
  rx.answer(503)
  const [p] = await sb.people('ok', 1)
  const c = await http(sb.url, 'POST', CONSULT, { token, json: consultBodyFor(p!) })
  await http(sb.url, 'POST', `${CONSULT}/${c.body.id}/authorize`, { token, json: {} })
  await waitFor('two refused attempts', () => rx.received.filter((r) => r.json.consultId === c.body.id).length >= 2, 5_000, 20)
  rx.answer(200)
  const { events } = await sb.webhooks()
  const e = events.find((x) => x.ref === c.body.id)!
  t.equal(e.result, 'delivered', 'delivered in the end')
  t.ok(e.attempts >= 3, `after ${e.attempts} attempts`)
})

t.test('operations: create from a simulation, detail, list, events over time, signing to paid', async (t) => {
  const { sb, clock, token, rx } = await setup(t)
  await http(sb.url, 'POST', '/user/webhook/private-consignment/operation', { token, json: { url: rx.url } })
  const [p] = await sb.people('ok', 1)
  const { simulationId } = await simulated(sb, token, clock, p!)
  const created = await http(sb.url, 'POST', OPS, { token, json: { simulation_id: simulationId, provider: 'QI', borrower: borrowerFor(p!) } })
  t.equal(created.status, 200, 'created')
  t.same(Object.keys(created.body).sort(), ['formalization_url', 'id'], '{id, formalization_url} only')
  const id = created.body.id as string
  t.match(created.body.formalization_url, new RegExp(`/__sandbox/formalizacao/${id}$`), 'a link that opens')
  t.equal((await http(sb.url, 'GET', `/__sandbox/formalizacao/${id}`)).status, 200, 'the signing page answers')
  const detail = await http(sb.url, 'GET', `${OPS}/${id}`, { token })
  t.match(detail.body, { id, status: 'generating_ccb', document_number: p!.cpf, contract_url: created.body.formalization_url, operation_data: { number_of_installments: 12 }, operation_history: [{ action: 'generating_ccb' }] }, 'snake_case detail')
  const list = await http(sb.url, 'GET', OPS, { token })
  t.match(list.body[0], { operationId: id, documentNumber: p!.cpf, status: 'generating_ccb' }, 'listed first, camelCase')
  await sb.webhooks()
  clock.advance(1000)
  await sb.webhooks()
  await sb.sign(id)
  await sb.webhooks()
  clock.advance(2500)
  await sb.webhooks()
  const ops = rx.received.filter((r) => r.json.operationId === id).map((r) => `${r.json.type.split('.').pop()}:${r.json.status}`)
  t.same(ops, ['created:generating_ccb', 'updated:formalization', 'updated:analysis', 'updated:paid'], 'created, then each status as it came')
  t.equal((await http(sb.url, 'GET', `${OPS}/${id}`, { token })).body.contract_url, `${created.body.formalization_url}/contrato.pdf`, 'after signing, contract_url is the contract')
  t.match(await http(sb.url, 'POST', `${OPS}/${id}/cancel`, { token, json: { cancel_reason: 'invalid_data:other', cancel_description: 'x', provider: 'QI' } }), { status: 400, body: { title: 'Bad Request', detail: /cannot be canceled/ } }, 'a paid one cannot be canceled')
  t.match(await http(sb.url, 'POST', OPS, { token, json: { simulation_id: simulationId, borrower: borrowerFor(p!) } }), { status: 400, body: { detail: /already exists/ } }, 'a contracted simulation cannot be contracted again')
})

t.test('operations: refusals, cancel, pendencies, documents, banks', async (t) => {
  const { sb, clock, token } = await setup(t)
  const [p] = await sb.people('ok', 1)
  const { simulationId } = await simulated(sb, token, clock, p!)
  const bad = { ...borrowerFor(p!), email: 'nope' }
  t.match(await http(sb.url, 'POST', OPS, { token, json: { simulation_id: simulationId, borrower: bad } }), { status: 400, body: { detail: /borrower\.email must be an email/ } }, 'a bad borrower: {title, detail}')
  t.match(await http(sb.url, 'POST', OPS, { token, json: { simulation_id: 'nope', borrower: borrowerFor(p!) } }), { status: 400, body: { detail: /not found/ } }, 'unknown simulation')
  const id = (await http(sb.url, 'POST', OPS, { token, json: { simulation_id: simulationId, borrower: borrowerFor(p!) } })).body.id
  t.match(await http(sb.url, 'POST', OPS, { token, json: { simulation_id: simulationId, borrower: borrowerFor(p!) } }), { status: 400, body: { detail: /already exists/ } }, 'one open operation per simulation')
  t.match(await http(sb.url, 'PATCH', `${OPS}/${id}/pendency/presentation`, { token }), { status: 400 }, 'nothing to present when not pending')
  await sb.operationStatus(id, 'pending')
  t.equal((await http(sb.url, 'PATCH', `${OPS}/${id}/pendency/payment-data`, { token, json: { bank: { transfer_method: 'pix', pix_key: '+5511987654321', pix_key_type: 'phone' } } })).status, 200, 'payment data accepted')
  t.equal((await http(sb.url, 'GET', `${OPS}/${id}`, { token })).body.status, 'analysis', 'back to analysis')
  const boundary = 'xyz'
  const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\nselfie\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.jpg"\r\nContent-Type: image/jpeg\r\n\r\nJPEGDATA\r\n--${boundary}--\r\n`
  const up = await request(`${sb.url}${OPS}/${id}/document`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` }, body: multipart })
  t.equal(up.statusCode, 200, 'document accepted')
  await up.body.dump()
  t.equal((await http(sb.url, 'POST', `${OPS}/${id}/cancel`, { token, json: { cancel_reason: 'invalid_data:other', cancel_description: 'Cliente desistiu', provider: 'QI' } })).status, 200, 'cancel accepted')
  t.equal((await http(sb.url, 'GET', `${OPS}/${id}`, { token })).body.status, 'awaiting_cancel', 'awaiting_cancel first')
  clock.advance(1000)
  t.equal((await http(sb.url, 'GET', `${OPS}/${id}`, { token })).body.status, 'canceled', 'then canceled')
  t.match(await http(sb.url, 'GET', '/banks', { token }), { status: 200, body: { data: [{ id: String, code: '341' }] } }, 'banks')
  const stats = await sb.stats()
  t.equal(stats.operations_created, 1, 'one operation made')
  t.equal(stats.operations_canceled, 1, 'one canceled')
})
