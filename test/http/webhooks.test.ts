/**
 * The V8 webhook receiver over a real socket: registration at start (and again on changes) under the secret path, the
 * handshake, a wrong path refused and counted, every fixture event stored once and answered 2xx, nothing of the
 * secret in logs or answers, V8's deliveries exempt from the per-client rate limit.
 */
import t from 'tap'
import { contract, loadContracts } from '../fixtures/contracts.js'
import { waitFor } from '../fixtures/batches.js'
import { http } from '../fixtures/sandbox.js'
import { webhookTenant } from '../fixtures/webhooks.js'

t.test('registered with V8 once listening, handshake recorded, state shown without the secret', async (t) => {
  const w = await webhookTenant(t)
  await w.registered()
  const secretUrl = w.services.webhooks.registrar.url('consult')
  const secret = secretUrl.split('/')[5]!
  t.ok(secret.length >= 30, 'an unguessable path segment')
  const regs = (await w.sb.webhooks()).registrations['demo@sandbox.local']!
  t.same(regs, { consult: `${w.url}/webhooks/v8/${secret}/consult`, operation: `${w.url}/webhooks/v8/${secret}/operation` }, 'V8 holds one URL per kind under the secret path')
  const estado = await w.get('/webhooks/estado')
  t.equal(estado.status, 200, 'estado')
  t.match(estado.body.v8, { configurado: true, url: { consult: `${w.url}/webhooks/v8/***/consult` }, registros: [{ tipo: 'consult', status: 'registered', teste_recebido_em: String, confirmado_em: String }, { tipo: 'operation', status: 'registered' }] }, 'registered, handshake seen, URL masked')
  t.notOk(JSON.stringify(estado.body).includes(secret), 'the secret is not in the answer')
  t.match(estado.body.callbacks, { configurado: true, url: `${w.rx.url}/callbacks`, tentativas_max: 12 }, 'callbacks configured')
  const health = await http(w.url, 'GET', '/health')
  t.match(health.body.checks.webhooks, { v8: { consult: 'registered', operation: 'registered' }, refused: 0 }, '/health shows the registration')
  t.notOk(JSON.stringify(health.body).includes(secret), 'nor in /health')
  t.equal((await w.get('/webhooks/estado')).status, 200, 'with the key')
  t.equal((await http(w.url, 'GET', '/webhooks/estado')).status, 401, 'the state needs the API key')
})

t.test('a new PUBLIC_URL or V8 login registers again; without PUBLIC_URL nothing is registered', async (t) => {
  const w = await webhookTenant(t)
  await w.registered()
  const before = (await w.sb.stats()).webhooks_registered
  w.store.update({ PUBLIC_URL: `http://localhost:${w.port}` })
  await waitFor('registered again', async () => (await w.sb.webhooks()).registrations['demo@sandbox.local']?.['consult']?.startsWith(`http://localhost:${w.port}/`), 10_000, 25)
  await w.registered()
  t.equal((await w.sb.stats()).webhooks_registered, before + 2, 'both kinds again')
  w.store.update({ V8_USERNAME: 'outro@sandbox.local' })
  await waitFor('registered for the new login', async () => (await w.sb.webhooks()).registrations['outro@sandbox.local'] !== undefined, 10_000, 25)
  w.store.update({ PUBLIC_URL: '' })
  t.match(w.services.webhooks.registrar.status(), [{ status: 'not_configured' }, { status: 'not_configured' }], 'not configured without PUBLIC_URL')
})

t.test('a wrong path is a plain 404, counted; the right one stores each event once and answers 200', async (t) => {
  const w = await webhookTenant(t)
  await w.registered()
  const right = w.services.webhooks.registrar.url('consult').replace(w.url, '')
  const guess = await http(w.url, 'POST', '/webhooks/v8/guessed-secret-0000/consult', { json: contract('v8', 'webhook.event.consult-updated.success').request })
  t.match(guess, { status: 404, body: { success: false, error: 'rota_nao_encontrada', message: 'Rota não encontrada: POST /webhooks/v8/***/consult' } }, 'same answer as an unknown route, guess masked')
  t.equal((await http(w.url, 'POST', '/webhooks/v8/x', { json: {} })).status, 404, 'bare path, wrong secret')
  t.equal((await http(w.url, 'POST', `${right.replace('/consult', '/other')}`, { json: {} })).status, 404, 'right secret, unknown kind')
  const health = await http(w.url, 'GET', '/health')
  t.equal(health.body.checks.webhooks.refused, 3, 'refusals counted in /health')

  const inbound = loadContracts('v8').filter((e) => e.direction === 'inbound')
  t.ok(inbound.length >= 8, `${inbound.length} fixture events`)
  for (const e of inbound) {
    const res = await http(w.url, 'POST', right, { json: e.request })
    t.match(res, { status: 200, body: { ok: true } }, `${e.name}: 200 {ok:true}`)
  }
  const again = await http(w.url, 'POST', right, { json: contract('v8', 'webhook.event.consult-updated.rejected').request })
  t.equal(again.status, 200, 'a redelivery is answered 200 too')
  const junk = await http(w.url, 'POST', right, { headers: { 'content-type': 'application/json' }, json: undefined }).catch(() => null)
  t.equal(junk?.status, 200, 'an empty body is answered 200 (V8 would redeliver anything else)')
  const broken = await (await import('undici')).request(`${w.url}${right}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type": ' })
  t.equal(broken.statusCode, 200, 'malformed JSON: 200, stored as not understood')
  await broken.body.dump()
  const eventos = (await w.get('/webhooks/eventos?limit=100')).body.eventos as Array<{ tipo: string; entregas: number; estado: string; referencia: string | null }>
  const rejected = eventos.find((e) => e.tipo === 'private.consignment.consult.updated' && e.referencia === contract('v8', 'webhook.event.consult-updated.rejected').request!['consultId'])
  t.equal(rejected?.entregas, 2, 'the redelivered event is one row with two deliveries')
  t.ok(eventos.some((e) => e.estado === 'ignored' && e.tipo === '(sem tipo)'), 'the unreadable ones are kept, not applied')
  const estado = (await w.get('/webhooks/estado')).body.v8
  t.ok(estado.eventos.duplicados >= 1, 'duplicates counted')
  const secret = right.split('/')[3]!
  t.notOk(w.logs.some((l) => l.includes(secret)), 'the secret never reaches a log line')
  t.ok(w.logs.some((l) => l.includes('/webhooks/v8/***/consult')), 'request lines show the masked path')
})

t.test("V8's deliveries are not rate limited; wrong-path floods are", async (t) => {
  const w = await webhookTenant(t, { config: { RATE_LIMIT_PER_MINUTE: '5' } })
  await w.registered()
  const right = w.services.webhooks.registrar.url('operation').replace(w.url, '')
  const statuses: number[] = []
  for (let i = 0; i < 12; i++) statuses.push((await http(w.url, 'POST', right, { json: { type: 'private.consignment.operation.updated', operationId: `op-${i}`, status: 'analysis' } })).status)
  t.same([...new Set(statuses)], [200], 'twelve deliveries in a row, all 200')
  const wrong: number[] = []
  for (let i = 0; i < 8; i++) wrong.push((await http(w.url, 'POST', '/webhooks/v8/nope/operation', { json: {} })).status)
  t.ok(wrong.includes(429), 'guesses hit the per-client limit')
})
