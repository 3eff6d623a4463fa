/**
 * The real tenant, over real HTTP, against the INDEPENDENT PresençaBank simulator (test/fixtures/evidence-sim, built
 * from research/presenca.md and its fixtures), for each combination of the forms the evidence allows: every outcome
 * of POST /clt/fluxo-completo-precencabank, resumes without a second term, the status route, the WhatsApp text,
 * token expiry and /health. Time is a mock clock: pacing waits and polls are instant and exact.
 */
import t, { type Test } from 'tap'
import type { Person } from '../fixtures/evidence-sim/population.js'
import { mockClock, pbPeople } from '../fixtures/evidence-sim/presenca-population.js'
import { PB_COMBINATIONS, type PbVariants } from '../fixtures/evidence-sim/presenca-variants.js'
import type { PbState } from '../fixtures/evidence-sim/presenca-world.js'
import { startEvidenceSim } from '../fixtures/evidence-sim/server.js'
import { pbConfig, startTenant, type LiveTenant, type Reply } from '../fixtures/evidence-sim/tenant.js'
import { BASELINE } from '../fixtures/evidence-sim/variants.js'
import type { World } from '../fixtures/evidence-sim/world.js'

const FLUXO = '/clt/fluxo-completo-precencabank'
const MARGEM = '/v3/operacoes/consignado-privado/consultar-margem'
type Obj = Record<string, unknown>

/** The login cannot sign by PUT in this instance: every client signs through the term's link. */
export const signRefused = (v: PbVariants): boolean => v.sign === '400-problem' || v.sign === '403-empty'

const brief = (r: Reply): string => `${r.status} ${JSON.stringify(r.body).slice(0, 400)}`

/**
 * fluxo-completo-precencabank as a client's bot uses it: a 202 means "call again later" (the signature has not shown
 * yet: the same term goes on); where the PUT is refused, the 202 asks for the link and the client signs there.
 */
export async function fluxo (t: Test, api: LiveTenant, pb: PbState, cpf: string, extra: Obj = {}): Promise<Reply> {
  let r = await api.call('POST', FLUXO, { cpf, ...extra })
  for (let i = 0; i < 5 && r.status === 202; i++) {
    if (r.body['etapa'] === 'aguardando_assinatura') {
      t.ok(signRefused(pb.v), `waiting for the client's signature only where the PUT is refused (${brief(r)})`)
      const term = pb.termsOf(cpf).at(-1)
      t.equal((r.body['termo'] as Obj | null)?.['link'], pb.v.termCreate === 'attested' ? term?.shortUrl : null, "the term's link to send the client")
      pb.signByLink(cpf)
    } else {
      t.equal(r.body['etapa'], 'aguardando_autorizacao', `signed, not shown yet: call again (${brief(r)})`)
    }
    r = await api.call('POST', FLUXO, { cpf, ...extra })
  }
  return r
}

function marginCalls (w: World, cpf: string): Obj[] {
  return w.calls.filter((c) => c.upstream === 'presenca' && c.path === MARGEM && (c.body as Obj)['cpf'] === cpf).map((c) => c.body as Obj)
}

function loginCalls (w: World): number {
  return w.calls.filter((c) => c.upstream === 'presenca' && c.path === '/login').length
}

/** The answer's margin is the simulator's margin of `p`'s link `i`. */
function sameMargin (t: Test, body: Obj, p: Person, i: number): void {
  const l = 'links' in p.pb! ? p.pb.links[i]! : undefined
  const m = body['margem'] as Obj | null
  t.ok(m, `${p.key}: margem present`)
  t.equal(m?.['disponivel'], l?.margem.disponivel, `${p.key}: margem.disponivel as PresençaBank said`)
  t.equal(m?.['base'], l?.margem.base, `${p.key}: margem.base`)
  t.equal(m?.['total_devido'], l?.margem.totalDevido, `${p.key}: total devido`)
  t.equal(m?.['data_admissao'], l?.margem.admissao, `${p.key}: admission date`)
  t.equal(m?.['sexo'], p.gender === 'female' ? 'F' : 'M', `${p.key}: sexo from Masculino/Feminino`)
  t.same(body['vinculo'], { matricula: l?.matricula, numeroInscricaoEmpregador: l?.cnpj, elegivel: true }, `${p.key}: the link whose margin is reported, as received`)
}

async function scenario (t: Test, v: PbVariants): Promise<void> {
  const clock = mockClock()
  const sim = await startEvidenceSim(BASELINE, (w) => w.add(...pbPeople()), { now: clock.now, presenca: v })
  t.teardown(() => sim.close())
  const w = sim.world
  const pb = w.pb!
  const api = await startTenant(t, sim, pbConfig(sim), { now: clock.now, presenca: { sleep: clock.sleep } })
  const P = (key: string): Person => w.byKey(`pb-${key}`)
  const ran = new Set<string>()
  const run = async (t: Test, p: Person, extra: Obj = {}): Promise<Reply> => {
    ran.add(p.cpf)
    return fluxo(t, api, pb, p.cpf, extra)
  }

  t.test('eligible with margin: one term, signed, the link and its margin', async (t) => {
    const p = P('ok')
    const r = await run(t, p)
    t.equal(r.status, 200, `200 (${brief(r)})`)
    t.equal(r.body['success'], true, 'success')
    t.equal(r.body['elegivel'], true, 'elegivel')
    sameMargin(t, r.body, p, 0)
    const terms = pb.termsOf(p.cpf)
    t.equal(terms.length, 1, 'one term')
    t.same([terms[0]?.nome, terms[0]?.telefone], [p.name, `${p.areaCode}${p.phone}`], "the term is in the person's name and own mobile (DDD + 9 digits)")
    const termo = r.body['termo'] as Obj
    t.equal(termo['id'], terms[0]?.id, "termo.id is PresençaBank's autorizacaoId")
    t.equal(termo['link'], v.termCreate === 'attested' ? terms[0]?.shortUrl : null, 'termo.link is the shortUrl')
    t.same(r.body['vinculos'], [{ matricula: '4789', numeroInscricaoEmpregador: '79237330000155', elegivel: true }], 'vinculos as listed')
    const signed = terms[0]?.signRequest
    t.ok(signed, 'the term was signed by PUT (the device information sent)')
    t.equal(signed?.tenantId, 'superuser', 'tenant-id: superuser on the PUT')
    t.same(marginCalls(w, p.cpf), [{ cpf: p.cpf, matricula: '4789', cnpj: '79237330000155' }], 'consultar-margem with the link as received')

    const again = await api.call('POST', FLUXO, { cpf: p.cpf })
    t.equal(again.status, 200, `again: 200 (${brief(again)})`)
    t.equal((again.body['margem'] as Obj)['disponivel'], 833.43, 'same margin')
    t.equal(pb.termsOf(p.cpf).length, 1, 'calling again creates no second term')
  })

  t.test('several links: the best eligible one, its 8-digit CNPJ root and padded matrícula passed back unchanged', async (t) => {
    const p = P('multi')
    const r = await run(t, p)
    t.equal(r.status, 200, `200 (${brief(r)})`)
    t.equal(r.body['success'], true, 'success')
    sameMargin(t, r.body, p, 1)
    t.equal((r.body['vinculos'] as unknown[]).length, 3, 'all three links listed')
    t.same((r.body['vinculos'] as Obj[]).map((x) => x['elegivel']), [false, true, true], 'their eligibility as PresençaBank said')
    const asked = marginCalls(w, p.cpf).map((b) => `${String(b['matricula'])}@${String(b['cnpj'])}`).sort()
    t.same(asked, ['00000000000000000311@45736131', '21@79237330000155'], 'margin asked for the eligible links, ids exactly as received')
  })

  t.test('eligible without margin (negative): 200 success:false sem_margem', async (t) => {
    const p = P('nomargin')
    const r = await run(t, p)
    t.equal(r.status, 200, `200 (${brief(r)})`)
    t.same([r.body['success'], r.body['error'], r.body['elegivel'], r.body['status']], [false, 'sem_margem', true, 'CONCLUIDO'], 'a verdict')
    t.equal((r.body['margem'] as Obj | null)?.['disponivel'], -152.37, 'the negative margin shown as is')
  })

  t.test('not eligible, no links, not in the base: 200 success:false with the reason', async (t) => {
    const cases: Array<[string, string]> = [
      ['ineligible', 'nao_elegivel'],
      ['nolinks', v.noLinks === '200-empty' ? 'sem_vinculo' : 'nao_elegivel'],
      ['notfound', 'nao_elegivel'],
    ]
    for (const [key, code] of cases) {
      const r = await run(t, P(key))
      t.equal(r.status, 200, `${key}: 200 (${brief(r)})`)
      t.same([r.body['success'], r.body['error'], r.body['elegivel']], [false, code, false], `${key}: ${code}`)
      t.ok(String(r.body['message']).length > 10, `${key}: a reason in words`)
      t.equal(pb.termsOf(P(key).cpf).length, 1, `${key}: one term`)
    }
  })

  t.test('the CRM title is not a name: the name V8 knows goes on the term', async (t) => {
    const p = P('cpftitle')
    const r = await run(t, p)
    t.equal(r.status, 200, `200 (${brief(r)})`)
    t.equal(pb.termsOf(p.cpf)[0]?.nome, p.name, "the person's name, not the CPF title")
    t.equal(((r.body['dados_validados'] as Obj)['origem'] as Obj)['nome'], 'v8', 'origem of the name: v8')
  })

  t.test('a person nobody knows: 422 dados_faltantes, then dados_cliente', async (t) => {
    const p = P('nocrm')
    const r = await api.call('POST', FLUXO, { cpf: p.cpf })
    t.equal(r.status, 422, `422 (${brief(r)})`)
    t.equal(r.body['error'], 'dados_faltantes', 'dados_faltantes')
    t.same(((r.body['details'] as Obj)['campos'] as string[]).sort(), ['nome', 'telefone'], 'lists nome and telefone')
    t.equal(pb.termsOf(p.cpf).length, 0, 'no term created')
    const ok = await run(t, p, { dados_cliente: { nome: p.name, telefone: `(${p.areaCode}) ${p.phone.slice(0, 5)}-${p.phone.slice(5)}` } })
    t.equal(ok.status, 200, `with dados_cliente: 200 (${brief(ok)})`)
    t.same([pb.termsOf(p.cpf)[0]?.nome, pb.termsOf(p.cpf)[0]?.telefone], [p.name, `${p.areaCode}${p.phone}`], 'the data sent, normalized')
    sameMargin(t, ok.body, p, 0)
  })

  t.test("a phone already used for another CPF: 422 asking for the client's own number", async (t) => {
    const p = P('phoneclash')
    const r = await api.call('POST', FLUXO, { cpf: p.cpf })
    t.equal(r.status, 422, `422 (${brief(r)})`)
    t.equal(r.body['error'], 'telefone_em_uso', 'telefone_em_uso')
    t.same((r.body['details'] as Obj)['campos'], ['telefone'], 'details.campos: telefone')
    t.match(String(r.body['message']), /celular do próprio cliente/, 'asks for the client’s own mobile')
    t.equal(pb.termsOf(p.cpf).length, 0, 'no term for this CPF')
    const own = `${p.areaCode}981234567`
    const ok = await run(t, p, { dados_cliente: { telefone: own } })
    t.equal(ok.status, 200, `with the client's number: 200 (${brief(ok)})`)
    t.equal(pb.termsOf(p.cpf)[0]?.telefone, own, 'the term carries the new number')
  })

  t.test('a signature that takes long to show: 202, status PROCESSANDO, then a resume on the same term', async (t) => {
    const p = P('slow')
    ran.add(p.cpf)
    pb.slowToShow.set(p.cpf, 1_000)
    const r = await api.call('POST', FLUXO, { cpf: p.cpf })
    t.equal(r.status, 202, `202 (${brief(r)})`)
    t.same([r.body['success'], r.body['status'], r.body['pendente']], [true, 'PROCESSANDO', true], 'pending')
    t.equal(r.body['etapa'], signRefused(v) ? 'aguardando_assinatura' : 'aguardando_autorizacao', 'waiting for the right thing')
    const status = await api.call('GET', `/clt/status-precencabank/${p.cpf}`)
    t.equal(status.body['status'], 'PROCESSANDO', `status route: PROCESSANDO (${brief(status)})`)
    const msg = await api.call('POST', '/clt/mensagem-whatsapp', { cpf: p.cpf })
    t.equal(msg.status, 200, `mensagem (${brief(msg)})`)
    if (signRefused(v) && v.termCreate === 'attested') {
      t.equal(msg.body['status'], 'aguardando_assinatura', 'asks the client to sign')
      t.match(String(msg.body['mensagem']), pb.termsOf(p.cpf)[0]!.shortUrl, 'with the link')
    } else {
      t.ok(['em_analise', 'aguardando_assinatura'].includes(String(msg.body['status'])), `waiting text (${String(msg.body['status'])})`)
    }
    if (signRefused(v)) pb.signByLink(p.cpf)
    else pb.release(p.cpf)
    const later = await api.call('POST', FLUXO, { cpf: p.cpf })
    t.equal(later.status, 200, `resumed: 200 (${brief(later)})`)
    sameMargin(t, later.body, p, 0)
    t.equal(pb.termsOf(p.cpf).length, 1, 'the same term; none created on resume')
  })

  t.test('tokens: an expired and a revoked token each cost one new login', async (t) => {
    const before = loginCalls(w)
    clock.advance(v.tokenLifetimeMs + 60_000)
    const r = await run(t, P('expiry'))
    t.equal(r.status, 200, `after the token's lifetime: 200 (${brief(r)})`)
    t.equal(loginCalls(w) - before, 1, 'one new login')
    pb.revokeTokens()
    const revoked = await run(t, P('revoked'))
    t.equal(revoked.status, 200, `revoked token: 200 (${brief(revoked)})`)
    t.equal(loginCalls(w) - before, 2, 'one more login, not a loop')
  })

  t.test('virada de competência: a verdict for now, not cached; later the same term goes on', async (t) => {
    const p = P('virada')
    pb.virada = true
    const r = await api.call('POST', FLUXO, { cpf: p.cpf })
    ran.add(p.cpf)
    t.equal(r.status, 200, `200 (${brief(r)})`)
    t.same([r.body['success'], r.body['error']], [false, 'virada_de_folha'], 'virada_de_folha')
    pb.virada = false
    const later = await fluxo(t, api, pb, p.cpf)
    t.equal(later.status, 200, `after the turnover: 200 (${brief(later)})`)
    sameMargin(t, later.body, p, 0)
    t.equal(pb.termsOf(p.cpf).length, 1, 'the same term')
  })

  t.test('the all-zero margin glitch is asked again', async (t) => {
    const p = P('glitch')
    pb.zeroedMargins = 1
    const r = await run(t, p)
    t.equal(r.status, 200, `200 (${brief(r)})`)
    sameMargin(t, r.body, p, 0)
    t.equal(marginCalls(w, p.cpf).length, 2, 'asked twice')
  })

  t.test('status route and WhatsApp text of each outcome', async (t) => {
    const ok = await api.call('GET', `/clt/status-precencabank/${P('ok').cpf}`)
    t.equal(ok.status, 200, `200 (${brief(ok)})`)
    t.same([ok.body['success'], ok.body['status'], ok.body['etapa']], [true, 'CONCLUIDO', 'finalizado'], 'CONCLUIDO')
    t.equal((((ok.body['dados'] as Obj)['resultado'] as Obj)['margem'] as Obj)['disponivel'], 833.43, 'dados.resultado.margem')
    const none = await api.call('GET', '/clt/status-precencabank/52998224725')
    t.equal(none.status, 404, `a CPF never consulted: 404 (${brief(none)})`)
    const bad = await api.call('GET', '/clt/status-precencabank/123')
    t.ok(bad.status === 400 || bad.status === 422, `an invalid CPF: 4xx (${brief(bad)})`)
    const texts: Array<[string, string, RegExp]> = [
      ['ok', 'margem_disponivel', /R\$ 833,43/],
      ['nomargin', 'sem_margem', /margem/],
      ['ineligible', 'nao_elegivel', /elegível/],
      ['nolinks', 'nao_elegivel', /CLT/],
    ]
    for (const [key, status, text] of texts) {
      const m = await api.call('POST', '/clt/mensagem-whatsapp', { cpf: P(key).cpf })
      t.equal(m.status, 200, `${key}: 200 (${brief(m)})`)
      t.same([m.body['banco'], m.body['status']], ['presencabank', status], `${key}: ${status}`)
      t.match(String(m.body['mensagem']), text, `${key}: the text says it`)
    }
  })

  t.test('/health: checks.presencabank and the older precencabank block with exact counts', async (t) => {
    const h = await api.call('GET', '/health')
    t.equal(h.status, 200, `200 (${brief(h)})`)
    const c = (h.body['checks'] as Obj)['presencabank'] as Obj
    t.same([c['configured'], c['token_cached'], c['last_error'], c['per_minute']], [true, true, null, 30], 'configured, token cached, no error')
    t.ok(Number(c['expires_in']) > 0, 'expires_in')
    const old = h.body['precencabank'] as Obj
    t.same(old?.['cache'], { total: ran.size, processando: 0, concluidos: ran.size, erros: 0 }, 'every CPF run is a finished consult')
    t.same(old?.['endpoints'], { fluxoCompleto: '/clt/fluxo-completo-precencabank', status: '/clt/status-precencabank/:cpf' }, 'endpoints')
    t.equal(pb.tooMany, 0, 'PresençaBank never answered 429')
  })
}

for (const v of PB_COMBINATIONS) {
  t.test(`PresençaBank evidence simulator: ${v.name}`, (t) => scenario(t, v))
}
