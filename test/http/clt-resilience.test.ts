/** The flow under upstream trouble, and as the batch workers' runner: no duplicate consults, results where callers look. */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { cltTenant } from '../fixtures/clt.js'

t.test('consult created but its answer lost (503 after acting): the consult is found, not created again', async (t) => {
  const c = await cltTenant(t)
  const [p] = await c.sb.people('ok', 1)
  await c.sb.faults({ status: 503, phase: 'after', routes: ['/private-consignment/consult'], methods: ['POST'], count: 1 })
  const res = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(res.statusCode, 200, `200 (${res.body.slice(0, 160)})`)
  const stats = await c.sb.stats()
  t.equal(stats.faults_injected, 1, 'the fault hit the creation')
  t.equal(stats.consults_by_cpf[p!.cpf], 1, 'one consult')
})

t.test('V8 down while waiting: 503 now, the next call resumes the same consult', async (t) => {
  const c = await cltTenant(t, { sandbox: { consult_delay_ms: 400 } })
  const [p] = await c.sb.people('ok', 1)
  await c.sb.faults({ status: 503, routes: ['/private-consignment/consult/'], methods: ['GET'] })
  const down = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(down.statusCode, 503, `503 (${down.body.slice(0, 120)})`)
  t.match(down.json().message, /V8/, 'names V8')
  await c.sb.clearFaults()
  await sleep(450)
  const again = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  t.equal(again.statusCode, 200, '200 once V8 is back')
  t.equal((await c.sb.stats()).consults_by_cpf[p!.cpf], 1, 'still one consult')
})

t.test('a batch runs the real flow: outcomes per CPF, one consult each, results for mensagem-whatsapp', async (t) => {
  const c = await cltTenant(t)
  const [ok] = await c.sb.people('ok', 1)
  const [rejected] = await c.sb.people('rejected', 1)
  const [missing] = await c.sb.people('incomplete', 1)
  const created = await c.post('/clt/lotes', { cpfs: [ok!.cpf, rejected!.cpf, missing!.cpf] })
  t.equal(created.statusCode, 202, `batch accepted (${created.body.slice(0, 120)})`)
  const id = created.json().lote_id
  let view: any
  for (let i = 0; i < 100; i++) {
    view = (await c.get(`/clt/lotes/${id}`)).json()
    if (view.status === 'COMPLETED') break
    await sleep(100)
  }
  t.equal(view.status, 'COMPLETED', 'the batch completes')
  const item = (cpf: string) => view.itens.find((i: { cpf: string }) => i.cpf === cpf)
  t.equal(item(ok!.cpf)?.status, 'SUCCESS', 'ok → SUCCESS')
  t.equal(item(rejected!.cpf)?.status, 'FAILED', 'rejected → FAILED')
  t.equal(item(missing!.cpf)?.status, 'FAILED', 'incomplete → FAILED')
  const stats = await c.sb.stats()
  t.equal(stats.consults_by_cpf[ok!.cpf], 1, 'one consult for ok')
  t.equal(stats.consults_by_cpf[missing!.cpf] ?? 0, 0, 'none with missing data')
  const msg = await c.post('/clt/mensagem-whatsapp', { cpf: ok!.cpf })
  t.equal(msg.json().status, 'oferta', 'the batch result is what mensagem-whatsapp reads')
})
