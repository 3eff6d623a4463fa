/**
 * The real tenant, over real HTTP, against the INDEPENDENT V8 simulator with webhooks and operations
 * (test/fixtures/evidence-sim/v8-hooks.ts, v8-ops.ts, built from research/v8-webhooks-operations.md): registration
 * and handshake, a pending flow finished by V8's event with nobody calling again, a proposal from the approved
 * simulation moved by operation events, duplicates and out-of-order events changing nothing twice, and shapes the
 * product does not know answered 2xx, counted, never crashing.
 */
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { HEADERS, verifySignature } from '../../src/upstream/callback.js'
import { waitFor } from '../fixtures/batches.js'
import { person, type Person } from '../fixtures/evidence-sim/population.js'
import { startEvidenceSim } from '../fixtures/evidence-sim/server.js'
import { startTenant, type LiveTenant, type Reply } from '../fixtures/evidence-sim/tenant.js'
import { HOOK_COMBINATIONS, type HookVariants } from '../fixtures/evidence-sim/v8-hook-variants.js'
import { EVENT } from '../fixtures/evidence-sim/v8-hooks.js'
import { moveOperation } from '../fixtures/evidence-sim/v8-ops.js'
import { COMBINATIONS, type Variants } from '../fixtures/evidence-sim/variants.js'
import type { World } from '../fixtures/evidence-sim/world.js'
import { freePort } from '../fixtures/net.js'
import { startReceiver, type Receiver } from '../fixtures/receiver.js'

type Obj = Record<string, any>
const SECRET = 'evidence-callback-secret-0123456789abcdef'
const brief = (r: Reply): string => `${r.status} ${JSON.stringify(r.body).slice(0, 300)}`

const PEOPLE = (): Person[] => [
  person('wh-hold', { fate: 'HOLD' }),
  person('wh-holdreject', { fate: 'HOLD' }),
  person('wh-prop'),
  person('wh-cancel'),
  person('wh-batch', { fate: 'HOLD' }),
  person('wh-lost'),
]

/** What the borrower declares at the proposal (the rest comes from the CRM and the flow). */
const declared = (p: Person): Obj => ({
  cpf: p.cpf,
  estado_civil: 'solteiro',
  pep: false,
  nacionalidade: 'brasileira',
  nome_mae: 'HELENA DE TAL',
  documento: { tipo: 'rg', numero: '301234567', orgao_emissor: 'SSP', data_emissao: '2015-03-10' },
  endereco: { cep: '04512-030', logradouro: 'Rua das Acacias', numero: '120', complemento: '', bairro: 'Jardim Primavera', cidade: 'Sao Paulo', uf: 'SP' },
  pix: { chave: p.cpf },
})

function callbacks (rx: Receiver): Array<{ id: string; tipo: string; dados: Obj }> {
  return rx.received.map((r) => {
    const ok = verifySignature(SECRET, { timestamp: String(r.headers[HEADERS.timestamp]), signature: String(r.headers[HEADERS.signature]) }, r.body, Math.floor(Date.now() / 1000))
    if (!ok) throw new Error(`callback with a bad signature: ${r.body.slice(0, 200)}`)
    return { id: r.json.id, tipo: r.json.tipo, dados: r.json.dados }
  })
}

async function scenario (t: Test, hv: HookVariants, v: Variants): Promise<void> {
  const sim = await startEvidenceSim(v, (w) => w.add(...PEOPLE()), { hooks: hv })
  t.teardown(() => sim.close())
  const w: World = sim.world
  const hooks = w.hooks!
  const rx = await startReceiver(t)
  const port = await freePort()
  const api: LiveTenant = await startTenant(t, sim, {
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    CALLBACK_URL: `${rx.url}/callbacks`,
    CALLBACK_SECRET: SECRET,
    FLOW_WAIT_SECONDS: '1',
    DEFAULT_GENDER: 'F',
    KENTRO_STAGE_BY_STATUS: 'formalization:22,paid:23',
  }, {
    events: { delivery: { baseBackoffMs: 100, maxBackoffMs: 1_000, pollMs: 100 }, applier: { pollMs: 100, unknownDelaysMs: [100, 200, 400, 800, 1_600] } },
  }, port)
  const P = (key: string): Person => w.byKey(`wh-${key}`)
  const estado = async (): Promise<Obj> => (await api.call('GET', '/webhooks/estado')).body
  const pushed = async (what: string, pred: (c: { tipo: string; dados: Obj }) => boolean): Promise<{ id: string; tipo: string; dados: Obj }> =>
    waitFor(what, () => callbacks(rx).find(pred), 20_000, 25)
  const proposal = async (id: string): Promise<Obj> => (await api.call('GET', `/clt/propostas/${id}`)).body['proposta'] as Obj

  await t.test('registered at start under a secret path; V8 tested it, then confirmed', async (t) => {
    await waitFor('both kinds registered', () => hooks.urls.size === 2, 10_000, 25)
    await hooks.idle()
    const consult = hooks.urls.get('consult')!
    t.match(consult, new RegExp(`^${api.url}/webhooks/v8/[A-Za-z0-9_-]{30,}/consult$`), 'the consult URL: PUBLIC_URL + an unguessable segment')
    t.equal(hooks.urls.get('operation'), consult.replace(/consult$/, 'operation'), 'the operation URL beside it')
    t.same(hooks.registerCalls.map((c) => c.kind).sort(), ['consult', 'operation'], 'one registration per kind')
    for (const kind of ['consult', 'operation'] as const) {
      const seen = hooks.deliveries.filter((d) => d.kind === kind).map((d) => [(d.payload as Obj)['type'], d.status])
      const registered = hv.duplicate ? [[EVENT.registered, 200], [EVENT.registered, 200]] : [[EVENT.registered, 200]]
      t.same(seen, [[EVENT.test, 200], ...registered], `${kind}: webhook.test answered 2xx, then webhook.registered`)
    }
    await waitFor('handshake recorded', async () => ((await estado())['v8']['registros'] as Obj[]).every((r) => r['confirmado_em']), 5_000, 25)
    const regs = (await estado())['v8']['registros'] as Obj[]
    t.match(regs, [{ tipo: 'consult', status: 'registered', teste_recebido_em: String, confirmado_em: String }, { tipo: 'operation', status: 'registered' }], '/webhooks/estado: registered, handshake seen')
  })

  await t.test('a pending flow finishes by webhook, nobody calling again', async (t) => {
    const p = P('hold')
    const r = await api.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })
    t.equal(r.status, 202, `pending: 202 (${brief(r)})`)
    const consult = w.consultsOf(p.cpf)[0]!
    t.equal(consult.status, 'WAITING_CONSULT', 'V8 still consulting')
    const simsBefore = [...w.simulations.values()].filter((s) => s.consultId === consult.id).length
    t.equal(simsBefore, 0, 'no simulation yet')
    w.finish(p.cpf)
    const done = await pushed('fluxo.concluido of the held CPF', (c) => c.tipo === 'fluxo.concluido' && c.dados['cpf'] === p.cpf)
    t.equal(done.dados['sucesso'], true, 'the flow ended with an offer')
    const sims = [...w.simulations.entries()].filter(([, s]) => s.consultId === consult.id)
    t.equal(sims.length, 1, 'V8 was asked for one simulation, after the event')
    t.equal(done.dados['resultado']['simulacao_resultado']['id_simulation'], sims[0]![0], "the callback carries V8's simulation")
    t.equal(done.dados['termo_id'], consult.id, 'of that consult')
    const applied = async (): Promise<Obj | undefined> => ((await api.call('GET', '/webhooks/eventos?limit=100')).body['eventos'] as Obj[]).find((e) => e['referencia'] === consult.id && e['status'] === 'SUCCESS' && e['estado'] === 'applied')
    t.match((await waitFor('the SUCCESS event applied', applied, 10_000, 25))['resultado'], /fluxo concluido/, "V8's SUCCESS event is what finished it")
    const msg = await api.call('POST', '/clt/mensagem-whatsapp', { cpf: p.cpf })
    t.match(String(msg.body['mensagem']), /R\$/, `the WhatsApp text has the offer (${brief(msg)})`)

    // The same SUCCESS again (V8 redelivers; one instance sends everything twice) and an intermediate status late.
    const success = hooks.delivered(EVENT.consult).filter((e) => (e as Obj)['consultId'] === consult.id && (e as Obj)['status'] === 'SUCCESS')
    t.ok(success.length >= 1, 'V8 sent SUCCESS')
    t.equal(await hooks.raw('consult', JSON.stringify(success[0])), 200, 'a redelivery answered 200')
    t.equal(await hooks.raw('consult', JSON.stringify({ type: EVENT.consult, consultId: consult.id, status: 'WAITING_CONSULT' })), 200, 'a late intermediate status answered 200')
    await waitFor('inbox settled', async () => (await estado())['v8']['eventos']['pendentes'] === 0, 10_000, 25)
    t.equal([...w.simulations.values()].filter((s) => s.consultId === consult.id).length, 1, 'still one simulation')
    t.equal(callbacks(rx).filter((c) => c.tipo === 'fluxo.concluido' && c.dados['cpf'] === p.cpf).length, 1, 'one callback for the CPF')
    const again = await api.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })
    t.equal(again.status, 200, `a later call answers the result (${brief(again)})`)
    t.equal(w.consultsOf(p.cpf).length, 1, 'one consult')
  })

  await t.test('a batch item waiting on V8 finishes by webhook', async (t) => {
    const p = P('batch')
    const lote = await api.call('POST', '/clt/lotes', { cpfs: [p.cpf] })
    t.equal(lote.status, 202, `batch accepted (${brief(lote)})`)
    const id = String(lote.body['lote_id'])
    await waitFor('the consult is waiting', () => w.consultsOf(p.cpf)[0]?.status === 'WAITING_CONSULT', 20_000, 25)
    const item = async (): Promise<Obj> => ((await api.call('GET', `/clt/lotes/${id}`)).body['itens'] as Obj[])[0]!
    await waitFor('the item is back in the queue, waiting on V8', async () => { const i = await item(); return i['status'] === 'PENDING' && i['etapa'] ? i : undefined }, 20_000, 25)
    t.equal((await item())['tentativas'], 1, 'one attempt so far: the consult is still running')
    w.finish(p.cpf)
    const done = await pushed('lote.concluido', (c) => c.tipo === 'lote.concluido' && c.dados['lote_id'] === id)
    t.same([done.dados['status'], done.dados['sucessos'], done.dados['erros']], ['COMPLETED', 1, 0], 'the batch completed with its one success')
    const consult = w.consultsOf(p.cpf)[0]!
    const applied = async (): Promise<Obj | undefined> => ((await api.call('GET', '/webhooks/eventos?limit=200')).body['eventos'] as Obj[]).find((e) => e['referencia'] === consult.id && e['status'] === 'SUCCESS' && e['estado'] === 'applied')
    t.match((await waitFor('the SUCCESS event applied', applied, 10_000, 25))['resultado'], /lote_acordado/, "V8's SUCCESS event woke the item (not its next poll)")
    t.equal(w.consultsOf(p.cpf).length, 1, 'one consult')
  })

  await t.test('a refusal by webhook finishes the flow too', async (t) => {
    const p = P('holdreject')
    const r = await api.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })
    t.equal(r.status, 202, `pending: 202 (${brief(r)})`)
    w.finish(p.cpf, { status: 'REJECTED', description: 'Data de nascimento nao confere' })
    const done = await pushed('fluxo.concluido of the refused CPF', (c) => c.tipo === 'fluxo.concluido' && c.dados['cpf'] === p.cpf)
    t.equal(done.dados['sucesso'], false, 'refused')
    t.match(JSON.stringify(done.dados), /nascimento/i, "with V8's reason")
  })

  await t.test('a proposal from the approved simulation, moved by operation events', async (t) => {
    const p = P('prop')
    const flow = await api.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })
    t.equal(flow.status, 200, `offer (${brief(flow)})`)
    const simId = (flow.body['resultado'] as Obj)['simulacao_resultado']['id_simulation']
    const created = await api.call('POST', '/clt/proposta', declared(p))
    t.equal(created.status, 201, `created (${brief(created)})`)
    const op = w.ops.get(String(created.body['operacao_id']))
    t.ok(op, "the proposal's operacao_id is V8's operation id")
    t.equal(op?.simulationId, simId, 'created from the simulation the flow approved')
    t.equal(created.body['formalization_url'], op?.formalizationUrl, "V8's formalization link")
    const b = (op?.sent['borrower'] ?? {}) as Obj
    t.match(b, { individual_document_number: p.cpf, name: p.name, phone: { country_code: '55', area_code: p.areaCode, number: p.phone }, address: { postal_code: '04512030', state: 'SP' }, bank: { transfer_method: 'pix', pix_key: p.cpf, pix_key_type: 'cpf' } }, 'the borrower as V8 takes it')
    const id = String(created.body['proposta_id'])
    await waitFor('formalization', async () => (await proposal(id))['status'] === 'formalization', 20_000, 25)
    const cb = await pushed('proposta.status formalization', (c) => c.tipo === 'proposta.status' && c.dados['proposta_id'] === id && c.dados['status'] === 'formalization')
    t.equal(cb.dados['formalization_url'], op?.formalizationUrl, 'pushed to the client with the link')
    const msg = await api.call('POST', '/clt/mensagem-whatsapp', { cpf: p.cpf })
    t.ok(String(msg.body['mensagem']).includes(op!.formalizationUrl), `the WhatsApp text carries the link (${brief(msg)})`)
    await waitFor('CRM stage 22', () => w.opportunityOfCpf(p.cpf)?.['fkStage'] === 22, 10_000, 25)
    t.pass('the CRM opportunity moved to the formalization stage')

    const again = await api.call('POST', '/clt/proposta', declared(p))
    t.equal(again.body['proposta_id'], id, `the same call again: the same proposal (${brief(again)})`)
    t.equal([...w.ops.values()].filter((o) => o.cpf === p.cpf).length, 1, 'one operation at V8')

    await moveOperation(w, op!.id, 'paid', 'Pago')
    await waitFor('paid', async () => (await proposal(id))['status'] === 'paid', 20_000, 25)
    // Out of order: a late "formalization" after "paid"; and "paid" again.
    t.equal(await hooks.raw('operation', JSON.stringify({ type: EVENT.opUpdated, operationId: op!.id, status: 'formalization' })), 200, 'a late event answered 200')
    t.equal(await hooks.raw('operation', JSON.stringify({ type: EVENT.opUpdated, operationId: op!.id, status: 'paid' })), 200, 'paid again answered 200')
    await waitFor('inbox settled', async () => (await estado())['v8']['eventos']['pendentes'] === 0, 10_000, 25)
    t.equal((await proposal(id))['status'], 'paid', 'a final status never moves back')
    await waitFor('CRM stage 23', () => w.opportunityOfCpf(p.cpf)?.['fkStage'] === 23, 10_000, 25)
    const statuses = callbacks(rx).filter((c) => c.tipo === 'proposta.status' && c.dados['proposta_id'] === id).map((c) => c.dados['status'])
    t.same([...new Set(statuses)], statuses, `each status pushed once (${statuses.join(', ')})`)
    t.ok(statuses.includes('paid'), 'paid pushed')
  })

  await t.test('a lost create answer: never sent twice; found in the list and adopted', async (t) => {
    const p = P('lost')
    t.equal((await api.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })).status, 200, 'offer')
    // V8 creates the operation, the answer is lost on the way (a proxy's 502): U-JS's timeout case (§3.1, §5.12).
    w.fault('POST', /^\/private-consignment\/operation$/, { status: 502, text: 'Bad Gateway' }, { after: true })
    const lost = await api.call('POST', '/clt/proposta', declared(p))
    const ops = (): number => [...w.ops.values()].filter((o) => o.cpf === p.cpf).length
    t.equal(ops(), 1, 'V8 did create it')
    // Found by CPF in the operations list at once (201), or not listed yet (503 proposta_indefinida, looked up next call).
    const again = lost.status === 201 ? lost : await api.call('POST', '/clt/proposta', declared(p))
    t.ok(again.status === 200 || again.status === 201, `found at V8, not sent again (${brief(lost)} / ${brief(again)})`)
    const op = [...w.ops.values()].find((o) => o.cpf === p.cpf)!
    t.equal(again.body['operacao_id'], op.id, "adopted: V8's operation")
    t.equal(ops(), 1, 'no second operation at V8')
    const creations = w.calls.filter((c) => c.method === 'POST' && c.path === '/private-consignment/operation' && (c.body as Obj)['borrower']?.['individual_document_number'] === p.cpf)
    t.equal(creations.length, 1, 'the creation was sent once')
    await waitFor('formalization', async () => (await proposal(String(again.body['proposta_id'])))['status'] === 'formalization', 20_000, 25)
    t.equal((await proposal(String(again.body['proposta_id'])))['formalization_url'], op.formalizationUrl, "the link from V8's detail (contract_url)")
  })

  await t.test('a proposal canceled: awaiting_cancel, then canceled by V8', async (t) => {
    const p = P('cancel')
    t.equal((await api.call('POST', '/clt/fluxo-completo', { cpf: p.cpf })).status, 200, 'offer')
    const created = await api.call('POST', '/clt/proposta', declared(p))
    t.equal(created.status, 201, `created (${brief(created)})`)
    const id = String(created.body['proposta_id'])
    await waitFor('formalization', async () => (await proposal(id))['status'] === 'formalization', 20_000, 25)
    const cancel = await api.call('POST', `/clt/propostas/${id}/cancelar`, { descricao: 'Cliente desistiu da contratação' })
    t.equal(cancel.status, 200, `cancel asked (${brief(cancel)})`)
    const sent = w.calls.find((c) => c.method === 'POST' && c.path.endsWith('/cancel'))?.body as Obj
    t.match(sent, { cancel_reason: 'invalid_data:other', cancel_description: 'Cliente desistiu da contratação' }, 'the cancel body callers send')
    await waitFor('canceled', async () => (await proposal(id))['status'] === 'canceled', 20_000, 25)
    t.pass('canceled by the operation event')
  })

  await t.test('shapes the product does not know: answered 2xx, counted, nothing breaks', async (t) => {
    await hooks.idle()
    await waitFor('earlier events settled', async () => (await estado())['v8']['eventos']['pendentes'] === 0, 20_000, 50)
    const before = (await estado())['v8']['eventos'] as Obj
    const odd: string[] = [
      JSON.stringify({ type: 'private.consignment.simulation.created', simulationId: randomUUID() }),
      JSON.stringify({ type: EVENT.opUpdated, status: 'paid' }),
      JSON.stringify({ type: EVENT.consult, consultId: randomUUID(), status: 'SUCCESS', availableMarginValue: '100.00' }),
      JSON.stringify({ type: EVENT.opUpdated, operationId: randomUUID(), status: 'paid' }),
      JSON.stringify([{ type: EVENT.test }]),
      'not json at all',
      JSON.stringify({ consultId: randomUUID(), status: 'SUCCESS' }),
    ]
    for (const body of odd) t.equal(await hooks.raw(odd.indexOf(body) % 2 === 0 ? 'consult' : 'operation', body), 200, `answered 200: ${body.slice(0, 60)}`)
    await waitFor('all settled', async () => (await estado())['v8']['eventos']['pendentes'] === 0, 20_000, 50)
    const after = (await estado())['v8']['eventos'] as Obj
    t.equal(after['ignorados'] - before['ignorados'], odd.length, 'each one stored and counted as not applied')
    t.equal(after['falhas'], 0, 'none failed')
    const health = await api.call('GET', '/health')
    t.equal(health.status, 200, `/health still OK (${brief(health)})`)
  })
}

for (const [i, hv] of HOOK_COMBINATIONS.entries()) {
  const v = COMBINATIONS[i % COMBINATIONS.length]!
  t.test(`V8 webhooks evidence simulator: ${hv.name} × ${v.name}`, (t) => scenario(t, hv, v))
}
