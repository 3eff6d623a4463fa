/**
 * From V8's webhook to the client's CALLBACK_URL, against the sandbox: a slow consult's result arrives signed with no
 * second call; a batch item waiting on it is finished by the event, not by its poll; duplicated and out-of-order
 * events change nothing twice; a client that is down gets the event later under the same id.
 */
import t from 'tap'
import { HEADERS } from '../../src/upstream/callback.js'
import { waitFor } from '../fixtures/batches.js'
import { webhookTenant } from '../fixtures/webhooks.js'

t.test("a slow consult's result reaches CALLBACK_URL signed, with no second call", async (t) => {
  const w = await webhookTenant(t)
  await w.registered()
  const [p] = await w.sb.people('slow', 1)
  const first = await w.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(first.status, 202, 'pending: the consult is slow')
  t.equal(first.body.resultado.pendente, true, 'pendente')
  const cb = await w.callback('the flow result', (c) => c.tipo === 'fluxo.concluido' && c.dados.cpf === p!.cpf)
  t.match(cb.dados, { status: 'SUCCESS', sucesso: true, resultado: { simulacao_resultado: { valor_liberado: Number } } }, 'the offer, pushed')
  t.match(cb.id, /^fluxo_[0-9a-f]{24}$/, 'a content-derived event id')
  const raw = w.callbacks().find((c) => c.id === cb.id)!.raw
  t.match(raw.headers, { [HEADERS.eventId]: cb.id, [HEADERS.event]: 'fluxo.concluido', [HEADERS.signature]: /^v1=[0-9a-f]{64}$/, [HEADERS.timestamp]: /^\d{10}$/ }, 'signed headers (verified by the fixture)')
  t.equal(raw.path, '/callbacks', 'to CALLBACK_URL')
  // The result is queued inside the flow's save, before the applier records what the event did: wait for that too.
  const applied = await waitFor('the SUCCESS event applied', async () => ((await w.get('/webhooks/eventos')).body.eventos as Array<{ status: string; estado: string; resultado: string }>).find((e) => e.status === 'SUCCESS' && e.estado === 'applied'), 10_000, 25)
  t.equal(applied.resultado, 'fluxo concluido', 'the SUCCESS event resumed the flow')
  const { text } = await w.services.metrics.render()
  t.match(text, /^clt_v8_flows_total\{bank="v8",outcome="success",code=""\} 1$/m, 'the run the event resumed is counted as a flow run')
  const msg = await w.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })
  t.equal(msg.body.status, 'oferta', 'the stored result is the offer')
  const entregas = (await w.get('/webhooks/entregas')).body.entregas
  t.match(entregas.find((e: { evento_id: string }) => e.evento_id === cb.id), { status: 'entregue', tentativas: 1, ultimo_status_http: 200 }, 'listed as delivered')
})

t.test('a batch item waiting on a slow consult is finished by the event (its own poll is hours away)', async (t) => {
  const w = await webhookTenant(t, { batch: { engine: { policy: { pendingMinMs: 3_600_000, pendingMaxMs: 3_600_000 }, flowWaitMs: 0 } } })
  await w.registered()
  const slow = await w.sb.people('slow', 2)
  const [ok] = await w.sb.people('ok', 1)
  const created = await w.post('/clt/lotes', { cpfs: [...slow.map((p) => p.cpf), ok!.cpf] })
  t.equal(created.status, 202, 'batch accepted')
  const lote = await w.callback('the batch completion', (c) => c.tipo === 'lote.concluido' && c.dados.lote_id === created.body.lote_id)
  t.match(lote.dados, { status: 'COMPLETED', total: 3, sucessos: 3, erros: 0 }, 'completed, counts pushed')
  const flows = w.callbacks().filter((c) => c.tipo === 'fluxo.concluido')
  t.same(new Set(flows.map((c) => c.dados.cpf)), new Set([...slow.map((p) => p.cpf), ok!.cpf]), 'one flow result per CPF')
  t.equal(flows.length, 3, 'and no more')
  const eventos = (await w.get('/webhooks/eventos?limit=200')).body.eventos as Array<{ status: string; resultado: string | null }>
  // flowWaitMs 0: every item (the quick one too) answered pending at once and was woken by its consult's SUCCESS.
  t.equal(eventos.filter((e) => e.status === 'SUCCESS' && e.resultado === 'lote_acordado').length, 3, 'each item was woken by its event')
})

t.test('duplicated and out-of-order events change nothing twice', async (t) => {
  const w = await webhookTenant(t)
  await w.registered()
  const [p] = await w.sb.people('slow', 1)
  await w.sb.webhookFaults({ duplicate_rate: 1 })
  t.equal((await w.post('/clt/fluxo-completo', { cpf: p!.cpf })).status, 202, 'pending')
  await w.callback('the flow result', (c) => c.tipo === 'fluxo.concluido' && c.dados.cpf === p!.cpf)
  const { events } = await w.sb.webhooks()
  const mine = events.filter((e) => e.status !== null && e.type === 'private.consignment.consult.updated')
  t.ok(mine.every((e) => e.duplicated), 'V8 (the sandbox) sent every consult event twice')
  const before = await w.sb.stats()
  // Out of order: the first (CONSENT_APPROVED) and the SUCCESS again, after the result was applied.
  for (const e of mine) await w.sb.replay(e.seq)
  await waitFor('replays stored', async () => (await w.get('/webhooks/estado')).body.v8.eventos.pendentes === 0, 10_000, 25)
  const after = await w.sb.stats()
  t.equal(after.simulations_created, before.simulations_created, 'no second simulation')
  t.equal(after.consults_created, before.consults_created, 'no second consult')
  const flows = w.callbacks().filter((c) => c.tipo === 'fluxo.concluido' && c.dados.cpf === p!.cpf)
  t.equal(flows.length, 1, 'one flow result delivered')
  t.equal(w.services.flowResults.get(p!.cpf)?.status, 'SUCCESS', 'still SUCCESS: a late CONSENT_APPROVED downgrades nothing')
  const estado = (await w.get('/webhooks/estado')).body.v8.eventos
  t.ok(estado.duplicados >= mine.length * 2, `duplicates counted (${estado.duplicados})`)
})

t.test('a client that is down gets the event later, same id; after the last attempt it is dead and can be requeued', async (t) => {
  const w = await webhookTenant(t, { config: { CALLBACK_MAX_ATTEMPTS: '3' } })
  await w.registered()
  w.rx.answer(503)
  const [p] = await w.sb.people('ok', 1)
  t.equal((await w.post('/clt/fluxo-completo', { cpf: p!.cpf })).status, 200, 'flow done')
  await waitFor('three refused attempts', () => w.rx.received.length >= 3, 20_000, 25)
  const dead = await waitFor('dead', async () => (await w.get('/webhooks/entregas?status=morto')).body.entregas[0], 10_000, 25)
  t.match(dead, { tipo: 'fluxo.concluido', tentativas: 3, ultimo_status_http: 503, ultimo_erro: 'HTTP 503' }, 'dead after 3 attempts, with the reason')
  t.same(new Set(w.rx.received.map((r) => r.json.id)), new Set([dead.evento_id]), 'every attempt carried the same event id')
  t.same(w.rx.received.map((r) => Number(r.headers[HEADERS.attempt])), [1, 2, 3], 'attempt numbers')
  t.equal((await w.get('/health')).body.checks.webhooks.callbacks.dead, 1, '/health counts the dead one')
  w.rx.answer(200)
  const requeued = await w.post(`/webhooks/entregas/${dead.evento_id}/reenviar`)
  t.equal(requeued.status, 200, 'requeued')
  const delivered = await waitFor('delivered', async () => (await w.get('/webhooks/entregas?status=entregue')).body.entregas[0], 10_000, 25)
  t.equal(delivered.evento_id, dead.evento_id, 'the same event, delivered')
  t.equal(w.rx.received.at(-1)!.json.id, dead.evento_id, 'same id on the wire')
})
