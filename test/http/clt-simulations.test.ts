/** POST /clt/simular-personalizada and /clt/simular-cache against the sandbox, for every scenario. */
import t from 'tap'
import { cltTenant } from '../fixtures/clt.js'

t.test('ok: custom terms and the margin offer again, on the approved consult', async (t) => {
  const c = await cltTenant(t)
  const [p] = await c.sb.people('ok', 1)
  const flow = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  const consultId = flow.json().resultado.termo_resultado.id

  const custom = await c.post('/clt/simular-personalizada', { cpf: p!.cpf, valor_liberado: 1000, prazo: 12 })
  t.equal(custom.statusCode, 200, `200 (${custom.body.slice(0, 160)})`)
  const sim = custom.json().resultado
  t.equal(custom.json().success, true, 'success')
  t.equal(sim.numero_parcelas, 12, 'the asked prazo')
  t.ok(Math.abs(sim.valor_liberado - 1000) < 0.05, `releases the asked valor_liberado (${sim.valor_liberado})`)
  // The older system's own field names: installment_face_value / number_of_installments; and valor = the installment.
  const old = await c.post('/clt/simular-personalizada', { cpf: p!.cpf, installment_face_value: 100, number_of_installments: 18 })
  t.match(old.json().resultado, { numero_parcelas: 18, valor_parcela: 100 }, "V8's names: an installment of 100 in 18x")
  const valor = await c.post('/clt/simular-personalizada', { cpf: p!.cpf, valor: 90, prazo: 6 })
  t.match(valor.json().resultado, { numero_parcelas: 6, valor_parcela: 90 }, 'valor is the installment, as in the older system')
  t.equal(sim.consult_id, consultId, 'on the flow consult')
  const msg = await c.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })
  t.match(msg.json().mensagem, /6x de/, 'the WhatsApp text follows the newest simulation')

  const cache = await c.post('/clt/simular-cache', { cpf: p!.cpf })
  t.equal(cache.statusCode, 200, '200')
  t.equal(cache.json().resultado.numero_parcelas, 6, 'the cached prazo first')
  t.equal(cache.json().resultado.valor_parcela, Number(p!.margin), 'installment = margin')

  const stats = await c.sb.stats()
  t.equal(stats.consults_by_cpf[p!.cpf], 1, 'never a new consult')
  t.equal(stats.simulations_created, 5, 'flow + three custom + cache')
})

t.test('the consult is found at V8 when this tenant has no record of it', async (t) => {
  const c = await cltTenant(t)
  const [p] = await c.sb.people('ok', 1)
  await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  c.db.prepare('DELETE FROM flow_results').run()
  c.db.prepare('DELETE FROM simulation_cache').run()
  const res = await c.post('/clt/simular-cache', { cpf: p!.cpf })
  t.equal(res.statusCode, 200, '200 via the V8 lookup')
  t.equal(res.json().resultado.numero_parcelas, 24, 'default ladder without a cached prazo')
})

t.test('refusals from V8 are 422 with its reason', async (t) => {
  const c = await cltTenant(t)
  const [p] = await c.sb.people('ok', 1)
  await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  const tooMuch = await c.post('/clt/simular-personalizada', { cpf: p!.cpf, valor_liberado: 9_000_000, prazo: 6 })
  t.equal(tooMuch.statusCode, 422, 'above the margin → 422')
  t.equal(tooMuch.json().error, 'simulacao_recusada', 'code')
  t.match(tooMuch.json().message, /margin/, "V8's reason quoted")
  const oddPrazo = await c.post('/clt/simular-personalizada', { cpf: p!.cpf, valor: 500, prazo: 7 })
  t.equal(oddPrazo.statusCode, 422, 'a prazo no table offers → 422')
  t.equal(oddPrazo.json().error, 'prazo_indisponivel', 'code')
  t.match(oddPrazo.json().message, /6, 12, 18, 24/, 'lists the offered prazos')
})

t.test('no consult yet (ok before the flow, no_opportunity, incomplete): 404', async (t) => {
  const c = await cltTenant(t)
  for (const scenario of ['ok', 'no_opportunity', 'incomplete'] as const) {
    const [p] = await c.sb.people(scenario, 1)
    await c.post('/clt/fluxo-completo', { cpf: scenario === 'ok' ? '52998224725' : p!.cpf })
    for (const [url, body] of [
      ['/clt/simular-personalizada', { cpf: p!.cpf, valor: 1000, prazo: 12 }],
      ['/clt/simular-cache', { cpf: p!.cpf }],
    ] as const) {
      const res = await c.post(url, body)
      t.equal(res.statusCode, 404, `${scenario} ${url} → 404`)
      t.equal(res.json().error, 'termo_nao_encontrado', 'code')
    }
  }
  t.equal((await c.sb.stats()).simulations_created, 0, 'nothing simulated')
})

t.test('rejected, no_margin and slow (pending): 422 with the consult status', async (t) => {
  const c = await cltTenant(t, { config: { FLOW_WAIT_SECONDS: '0' }, sandbox: { slow_ms: 60_000 } })
  const expected = { rejected: ['termo_nao_aprovado', 'REJECTED'], no_margin: ['sem_margem', 'SUCCESS'], slow: ['termo_nao_aprovado', /^(CONSENT_APPROVED|WAITING_CONSULT)$/] } as const
  for (const scenario of ['rejected', 'no_margin', 'slow'] as const) {
    const [p] = await c.sb.people(scenario, 1)
    // With no wait the first call may answer 202; a second call lets a fast consult finish.
    await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
    if (scenario !== 'slow') await new Promise((resolve) => setTimeout(resolve, 300))
    const [code, status] = expected[scenario]
    for (const [url, body] of [
      ['/clt/simular-personalizada', { cpf: p!.cpf, valor: 1000, prazo: 12 }],
      ['/clt/simular-cache', { cpf: p!.cpf }],
    ] as const) {
      const res = await c.post(url, body)
      t.equal(res.statusCode, 422, `${scenario} ${url} → 422`)
      t.equal(res.json().error, code, `code ${code}`)
      t.match(res.json().details?.status_termo, status, `status_termo ${status}`)
    }
  }
  t.equal((await c.sb.stats()).simulations_created, 0, 'nothing simulated')
})

t.test('bad input', async (t) => {
  const c = await cltTenant(t)
  const cases: Array<[string, unknown, number]> = [
    ['/clt/simular-personalizada', { cpf: '52998224725' }, 400],
    ['/clt/simular-personalizada', { cpf: '52998224725', valor: 0, prazo: 12 }, 400],
    ['/clt/simular-personalizada', { cpf: '52998224725', valor: 100, prazo: 500 }, 400],
    ['/clt/simular-personalizada', { cpf: '00000000000', valor: 100, prazo: 12 }, 422],
    ['/clt/simular-cache', { cpf: 12 }, 422],
    ['/clt/simular-cache', { cpf: null }, 400],
    ['/clt/simular-cache', [], 400],
  ]
  for (const [url, payload, status] of cases) {
    const res = await c.post(url, payload)
    t.equal(res.statusCode, status, `${url} ${JSON.stringify(payload)} → ${status}`)
  }
})

t.test('V8 refusing an identical second simulation: the one we hold is returned', async (t) => {
  const c = await cltTenant(t, { sandbox: { reject_duplicate_simulations: true } })
  const [p] = await c.sb.people('ok', 1)
  const flow = await c.post('/clt/fluxo-completo', { cpf: p!.cpf })
  const first = flow.json().resultado.simulacao_resultado
  const cache = await c.post('/clt/simular-cache', { cpf: p!.cpf })
  t.equal(cache.statusCode, 200, `200 (${cache.body.slice(0, 160)})`)
  t.equal(cache.json().resultado.id_simulation, first.id_simulation, 'the simulation V8 says exists')
  const custom1 = await c.post('/clt/simular-personalizada', { cpf: p!.cpf, valor_liberado: 800, prazo: 12 })
  const custom2 = await c.post('/clt/simular-personalizada', { cpf: p!.cpf, valor_liberado: 800, prazo: 12 })
  t.equal(custom2.statusCode, 200, 'the same custom request twice → 200')
  t.equal(custom2.json().resultado.id_simulation, custom1.json().resultado.id_simulation, 'the held one')
  const stats = await c.sb.stats()
  t.equal(stats.simulations_created, 2, 'V8 made two simulations in all')
})
