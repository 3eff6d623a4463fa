/** The PresençaBank flow against the sandbox, on a manual clock: every outcome, resume without a second term, signing variants, pacing. */
import t from 'tap'
import { presencaWorld, type PresencaWorld } from '../fixtures/presenca.js'

const TERMS = 'POST /presenca/consultas/termo-inss'
const LINKS = 'POST /presenca/v3/operacoes/consignado-privado/consultar-vinculos'

async function run (w: PresencaWorld, cpf: string, extra: Record<string, unknown> = {}): Promise<any> {
  return w.services.presencaFlow.run({ cpf, ...extra })
}

t.test('every outcome of the population', async (t) => {
  const w = await presencaWorld(t)
  const [ok1, ok2] = await w.sb.people('ok', 2)
  const a = await run(w, ok1!.cpf)
  t.equal(a.kind, 'success', 'eligible with margin → success')
  t.match(a.resultado, {
    sucesso: true,
    elegivel: true,
    etapa: 'finalizado',
    margem: { disponivel: Number(ok1!.margin), base: Number, total_devido: Number, data_nascimento: ok1!.data_nascimento, sexo: ok1!.sexo },
    termo: { id: String, autorizacaoId: String, link: /^https:\/\/sign\.presen\.ca\//, assinatura: 'assinado', autorizado: true },
    vinculos: [{ elegivel: true }],
    dados_validados: { nome: ok1!.nome, telefone: ok1!.telefone, origem: { cpf: 'requisicao' } },
  }, 'margin, term, links, who')
  await w.sb.configure({ presenca_margin_shape: a.resultado.margem.formato === 'objeto' ? 'array' : 'object' })
  const b = await run(w, ok2!.cpf)
  t.equal(b.kind, 'success', 'a second person, the margin in the other form')
  t.same([a.resultado.margem.formato, b.resultado.margem.formato].sort(), ['lista', 'objeto'], 'both answer forms read')
  t.equal(b.resultado.margem.disponivel, Number(ok2!.margin), 'same figures from the array form')

  const noMargin = await w.sb.people('no_margin', 2)
  for (const p of noMargin) {
    const r = await run(w, p.cpf)
    t.match(r, { kind: 'failed', code: 'sem_margem', resultado: { elegivel: true, sucesso: false, margem: { disponivel: Number } } }, `eligible without margin (${r.resultado?.margem?.disponivel})`)
    t.ok(r.resultado.margem.disponivel <= 0, 'zero or negative')
  }
  const rejected = await w.sb.people('rejected', 2)
  for (const p of rejected) {
    const r = await run(w, p.cpf)
    t.match(r, { kind: 'failed', code: 'nao_elegivel', etapa: 'consultando_vinculos', resultado: { elegivel: false, margem: null } }, `not eligible (${p.presenca})`)
  }
  const [none] = await w.sb.people('no_links', 1)
  t.match(await run(w, none!.cpf), { kind: 'failed', code: 'sem_vinculo', resultado: { elegivel: false, vinculos: [] } }, 'no links')
  const stats = await w.sb.stats()
  t.equal(stats.presenca_terms_created, 7, 'one term per CPF')
  t.equal(stats.presenca_rate_limited, 0, 'never over the per-login limit (calls paced at 30/min on the virtual clock)')
  t.equal(stats.presenca_logins, 1, 'one login for everything')
})

t.test('a signed term not accepted yet → pending; calling again resumes it, never a second term', async (t) => {
  const w = await presencaWorld(t)
  await w.sb.configure({ presenca_sign_delay_ms: 60_000 })
  const [p] = await w.sb.people('ok', 1)
  const first = await run(w, p!.cpf)
  t.match(first, { kind: 'pending', etapa: 'aguardando_autorizacao', resultado: { pendente: true, termo: { assinatura: 'assinado', autorizado: false } } }, 'signed, waiting for PresençaBank')
  t.ok(w.slept() >= 20_000, 'polled the links until the deadline (virtual time)')
  const id = first.resultado.termo.id
  t.match(w.services.presencaStore.result(p!.cpf), { status: 'PENDING', etapa: 'aguardando_autorizacao' }, 'recorded')
  w.clock.advance(40_000)
  const second = await run(w, p!.cpf)
  t.equal(second.kind, 'success', 'the same term is accepted now')
  t.equal(second.resultado.termo.id, id, 'same term')
  const third = await run(w, p!.cpf)
  t.same(third.resultado, second.resultado, 'a recent verdict is answered again')
  const stats = await w.sb.stats()
  t.equal(stats.presenca_terms_created, 1, 'one term created in all')
  t.equal(stats.presenca_terms_signed, 1, 'signed once')
  t.equal(stats.routes['PUT /presenca/consultas/termo-inss/:id'], 1, 'one signing call')
})

t.test('a login that may not sign itself: waiting for the client to sign through the link', async (t) => {
  const w = await presencaWorld(t)
  await w.sb.configure({ presenca_self_sign: false })
  const [p] = await w.sb.people('ok', 1)
  const first = await run(w, p!.cpf)
  t.match(first, { kind: 'pending', etapa: 'aguardando_assinatura', resultado: { termo: { assinatura: 'recusada', link: /^https:/ } } }, 'pending with the link')
  await run(w, p!.cpf)
  t.equal((await w.sb.stats()).routes['PUT /presenca/consultas/termo-inss/:id'], 1, 'a refused signature is not sent again')
  await w.sb.presencaSign(p!.cpf)
  t.equal((await run(w, p!.cpf)).kind, 'success', 'once the client signs, the same term goes on')
  t.equal((await w.sb.stats()).presenca_terms_created, 1, 'one term')
})

t.test("the signing call's known 500 leaves a working term", async (t) => {
  const w = await presencaWorld(t)
  await w.sb.configure({ presenca_sign_glitch: true })
  const [p] = await w.sb.people('ok', 1)
  const r = await run(w, p!.cpf)
  t.match(r, { kind: 'success', resultado: { termo: { assinatura: 'erro_conhecido', autorizado: true } } }, 'went on and succeeded')
})

t.test('who the term is for: the CRM, else dados_cliente; never an invented phone', async (t) => {
  const w = await presencaWorld(t, { config: { KENTRO_API_URL: '', V8_USERNAME: '' } })
  const [p, other] = await w.sb.people('ok', 2)
  const missing = await run(w, p!.cpf)
  t.match(missing, { kind: 'failed', code: 'dados_faltantes', details: { campos: ['nome', 'telefone'] } }, 'no CRM, no V8: 422 listing nome and telefone')
  t.equal((await w.sb.stats()).presenca_calls, 0, 'nothing sent to PresençaBank')
  const given = await run(w, p!.cpf, { supplied: { nome: p!.nome, telefone: p!.telefone } })
  t.match(given, { kind: 'success', resultado: { dados_validados: { origem: { nome: 'requisicao', telefone: 'requisicao' } } } }, 'the caller’s data, recorded as such')
  const taken = await run(w, other!.cpf, { supplied: { nome: other!.nome, telefone: p!.telefone } })
  t.match(taken, { kind: 'failed', code: 'telefone_em_uso', details: { campos: ['telefone'] } }, "another client's phone: ask for the client's own")
  t.match(taken.erro, /celular do próprio cliente/, 'says what to send')
  const own = await run(w, other!.cpf, { supplied: { nome: other!.nome, telefone: other!.telefone } })
  t.equal(own.kind, 'success', 'with the own phone it goes on')
  t.equal((await w.sb.stats()).presenca_terms_created, 2, 'the refused creation made no term')
})

t.test('a term creation whose answer was lost is checked before another is made', async (t) => {
  const w = await presencaWorld(t)
  const [p] = await w.sb.people('ok', 1)
  await w.sb.faults({ status: 503, routes: ['/presenca/consultas/termo-inss'], methods: ['POST'], phase: 'after', count: 1 })
  await t.rejects(run(w, p!.cpf), { code: 'upstream_unavailable', statusCode: 503, upstream: 'PresençaBank' }, 'the lost answer goes up (503)')
  t.match(w.services.presencaStore.term(p!.cpf), { autorizacaoId: null, createTriedAt: Number }, 'the attempt is recorded')
  const linksBefore = (await w.sb.stats()).routes[LINKS] ?? 0
  const r = await run(w, p!.cpf)
  t.equal(r.kind, 'success', 'then it goes on')
  const stats = await w.sb.stats()
  t.ok((stats.routes[LINKS] ?? 0) > linksBefore + 1, 'the links were asked first (the lost term, if any, was never signed)')
  t.equal(stats.routes[TERMS], 2, 'only then a new term (the lost one cannot be found: PresençaBank has no lookup)')
})

t.test('an authorization that stopped working gets one new term', async (t) => {
  const w = await presencaWorld(t, { config: { CACHE_TTL_HOURS: '1' } })
  const [p] = await w.sb.people('ok', 1)
  t.equal((await run(w, p!.cpf)).kind, 'success', 'first verdict')
  await w.sb.reset() // PresençaBank forgets the authorization (and the token)
  w.clock.advance(2 * 3_600_000)
  const r = await run(w, p!.cpf)
  t.equal(r.kind, 'success', 'renewed and answered')
  t.not(r.resultado.termo.id, undefined, 'with a term')
  t.equal((await w.sb.stats()).presenca_terms_created, 1, 'exactly one new term after the expiry')
})

t.test('a wrong password: one refused login, a clear error, no loop', async (t) => {
  const w = await presencaWorld(t, { config: { PRESENCABANK_PASSWORD: 'errada-123' } })
  const [p] = await w.sb.people('ok', 1)
  for (let i = 0; i < 3; i++) {
    await t.rejects(run(w, p!.cpf), { code: 'presencabank_login_recusado', statusCode: 502, message: /HTTP 500/ }, `call ${i + 1}: login recusado`)
  }
  t.equal((await w.sb.stats()).presenca_login_failures, 1, 'PresençaBank saw one login')
  t.match(w.services.presenca.status(), { token_cached: false, last_error: /Login recusado/ }, 'shown as the last error')
})

t.test('not configured: presencabank_nao_configurado (409), nothing sent', async (t) => {
  const w = await presencaWorld(t, { config: { PRESENCABANK_LOGIN: '' } })
  await t.rejects(run(w, '52998224725'), { code: 'presencabank_nao_configurado', statusCode: 409 }, '409')
  t.equal((await w.sb.stats()).presenca_calls, 0, 'nothing sent')
})

t.test('pacing: 30 calls a minute on the virtual clock keep under PresençaBank’s limit; unpaced calls hit it', async (t) => {
  const w = await presencaWorld(t)
  const people = await w.sb.people('ok', 8)
  for (const p of people) t.equal((await run(w, p.cpf)).kind, 'success', `CPF ${people.indexOf(p) + 1} done`)
  const stats = await w.sb.stats()
  t.ok(stats.presenca_calls > 30, `${stats.presenca_calls} calls, more than one minute's budget`)
  t.equal(stats.presenca_rate_limited, 0, 'no 429')
  t.ok(w.slept() >= (stats.presenca_calls - 1) * 2_000, `spaced 2 s apart: ${w.slept()} virtual ms slept for ${stats.presenca_calls} calls`)

  // The same work with the tenant allowed 600/min against PresençaBank's 30: the limit is hit (the check can fail).
  const fast = await presencaWorld(t, { config: { PRESENCABANK_MAX_RPM: '600' } })
  const many = await fast.sb.people('ok', 8)
  const errors: unknown[] = []
  for (const p of many) await run(fast, p.cpf).catch((e: unknown) => errors.push(e))
  t.ok((await fast.sb.stats()).presenca_rate_limited > 0, 'unpaced, PresençaBank answers 429')
  t.match(errors[0], { code: 'upstream_rate_limited', statusCode: 503 }, 'which is a transient 503 for the caller')
})

t.test('a pacing slot further away than the run can wait → pending aguardando_limite, nothing sent for it', async (t) => {
  const w = await presencaWorld(t, { config: { PRESENCABANK_MAX_RPM: '1' }, pacingGraceMs: 0 })
  const [p] = await w.sb.people('ok', 1)
  const r = await w.services.presencaFlow.run({ cpf: p!.cpf }, { waitMs: 0 })
  t.match(r, { kind: 'pending', etapa: 'aguardando_limite' }, 'pending while waiting for the slot')
  t.ok(r.kind === 'pending' && r.retryAfterMs > 50_000 && r.retryAfterMs <= 60_000, 'call again when the slot comes (about a minute at 1/min)')
  t.equal((await w.sb.stats()).presenca_calls, 1, 'only the login went out')
  t.match(w.services.presencaStore.result(p!.cpf), { status: 'PENDING', etapa: 'aguardando_limite' }, 'recorded: a batch shows it waiting')
  t.match(w.services.presenca.status(), { per_minute: 1 }, 'the limit in force')
})
