/** V8 BFF consults in the sandbox: validation, refusals, time-driven progression per scenario, listing and per-login scoping. */
import t from 'tap'
import { consultBodyFor, http, manualClock, startSandbox, v8Token } from '../fixtures/sandbox.js'

const CONSULT = '/private-consignment/consult'

async function setup (t: { teardown(fn: () => unknown): void }, delay = 300) {
  const clock = manualClock()
  const sb = await startSandbox(t, { now: clock.now, consultDelayMs: delay, slowMs: 5000 })
  const token = await v8Token(sb.url)
  return { sb, clock, token }
}

t.test('create → {id}; authorize → text; CONSENT_APPROVED → WAITING_CONSULT → WAITING_CREDIT_ANALYSIS → SUCCESS', async (t) => {
  const { sb, clock, token } = await setup(t)
  const [p] = await sb.people('ok', 1)
  const created = await http(sb.url, 'POST', CONSULT, { token, json: consultBodyFor(p!) })
  t.equal(created.status, 201, 'created')
  t.same(Object.keys(created.body), ['id'], 'only {id}, as every caller reads it')
  const id = created.body.id as string
  const get = async () => (await http(sb.url, 'GET', `${CONSULT}/${id}`, { token })).body
  const row = async () => (await http(sb.url, 'GET', CONSULT, { token })).body.data.find((c: { id: string }) => c.id === id)
  t.equal((await get()).status, 'WAITING_CONSENT', 'starts waiting for consent')
  clock.advance(10_000)
  t.equal((await get()).status, 'WAITING_CONSENT', 'nothing moves before authorize')
  const auth = await http(sb.url, 'POST', `${CONSULT}/${id}/authorize`, { token, json: {} })
  t.equal(auth.status, 200, 'authorize → 200')
  t.equal(auth.body, 'Successful response', 'a text body')
  t.match(auth.headers['content-type'], /text\/plain/, 'text/plain')
  t.equal((await get()).status, 'CONSENT_APPROVED', 'consent approved right after authorize')
  clock.advance(120)
  const waiting = await get()
  t.match(waiting, { status: 'WAITING_CONSULT', marginBaseValue: null, simulationLimit: null }, 'then waiting for the consult, no margin yet')
  clock.advance(80)
  t.match(await get(), { status: 'WAITING_CREDIT_ANALYSIS', marginBaseValue: p!.margin }, 'in credit analysis the margin already shows (simulable)')
  t.match(await row(), { status: 'WAITING_CREDIT_ANALYSIS', availableMarginValue: null }, 'the list shows availableMarginValue only on SUCCESS')
  clock.advance(100)
  const done = await get()
  t.equal(done.status, 'SUCCESS', 'SUCCESS after consultDelayMs')
  t.match(done, {
    documentNumber: p!.cpf,
    name: p!.nome,
    description: null,
    marginBaseValue: p!.margin,
    recommendedSimulationInstallmentValue: p!.margin,
    simulationLimit: { monthMin: 6, monthMax: 24, installmentsMin: 6, installmentsMax: 24 },
    consultEligible: true,
  }, 'the detail: marginBaseValue, simulationLimit, recommended installment')
  t.notOk('availableMarginValue' in done, 'no availableMarginValue on the detail')
  t.match(done.marginBaseValue, /^\d+\.\d{2}$/, 'margin as a string like "350.00"')
  t.match(done.partnerId, /^[0-9a-f-]{36}$/, 'partnerId is a uuid')
  const listed = await row()
  t.match(listed, { status: 'SUCCESS', availableMarginValue: p!.margin, documentNumber: p!.cpf }, 'the list row carries availableMarginValue')
  t.notOk('simulationLimit' in listed, 'and no limits')
  const page = (await http(sb.url, 'GET', CONSULT, { token })).body
  t.match(page.pages, { current: 1, hasNext: false, hasPrevious: false, totalPages: 1 }, 'pages')
  t.ok(!Number.isNaN(Date.parse(done.createdAt)), 'createdAt is ISO')
  const again = await http(sb.url, 'POST', `${CONSULT}/${id}/authorize`, { token, json: {} })
  t.equal(again.status, 400, 'second authorize → 400')
  t.equal(again.body.type, 'consult_already_approved', 'consult_already_approved')
  const stats = await sb.stats()
  t.equal(stats.consults_created, 1, 'one consult created')
  t.same(stats.consults_by_cpf, { [p!.cpf]: 1 }, 'per CPF')
  t.equal(stats.authorizations, 1, 'one authorization (the refused one does not count)')
})

t.test('client-data/basic: what V8 knows of the person', async (t) => {
  const { sb, token } = await setup(t)
  const ok = await sb.people('ok', 2)
  const [noGender] = await sb.people('no_gender', 1)
  const [incomplete] = await sb.people('incomplete', 1)
  const known = async (cpf: string) => http(sb.url, 'GET', `${CONSULT}/client-data/basic/${cpf}`, { token })
  const a = await known(ok[0]!.cpf)
  t.match(a.body, { name: ok[0]!.nome, birthDate: ok[0]!.data_nascimento, email: ok[0]!.email, phoneRegionCode: ok[0]!.telefone.slice(0, 2), phoneNumber: ok[0]!.telefone.slice(2), gender: ok[0]!.sexo === 'M' ? 'male' : 'female' }, 'person #0')
  t.equal((await known(ok[1]!.cpf)).body.birthDate, `${ok[1]!.data_nascimento}T00:00:00.000Z`, 'a birth date with a time part (odd indexes)')
  t.notOk('gender' in (await known(noGender!.cpf)).body, 'no gender for the no_gender scenario')
  t.equal((await known(incomplete!.cpf)).status, 404, 'V8 does not know the incomplete people')
  t.equal((await known('52998224725')).status, 404, 'nor CPFs outside the population')
  t.equal((await http(sb.url, 'GET', `${CONSULT}/client-data/basic/${ok[0]!.cpf}`)).status, 401, 'needs the token')
})

t.test('scenarios: rejected, wrong birth date, no_margin, slow, CPF outside the population', async (t) => {
  const { sb, clock, token } = await setup(t, 90)
  const [rejected] = await sb.people('rejected', 1)
  const [ok] = await sb.people('ok', 2).then((l) => l.slice(1))
  const [noMargin] = await sb.people('no_margin', 1)
  const [slow] = await sb.people('slow', 1)
  const start = async (body: Record<string, unknown>) => {
    const c = await http(sb.url, 'POST', CONSULT, { token, json: body })
    await http(sb.url, 'POST', `${CONSULT}/${c.body.id}/authorize`, { token, json: {} })
    return c.body.id as string
  }
  const ids = {
    rejected: await start(consultBodyFor(rejected!)),
    wrongBirth: await start(consultBodyFor(ok!, { birthDate: '1980-01-01' })),
    noMargin: await start(consultBodyFor(noMargin!)),
    slow: await start(consultBodyFor(slow!)),
    stranger: await start(consultBodyFor(ok!, { borrowerDocumentNumber: '52998224725' })),
  }
  clock.advance(90)
  const view = async (id: string) => (await http(sb.url, 'GET', `${CONSULT}/${id}`, { token })).body
  t.match(await view(ids.rejected), { status: 'REJECTED', description: 'Data de nascimento nao confere', marginBaseValue: null }, 'rejected scenario')
  t.match(await view(ids.wrongBirth), { status: 'REJECTED', description: 'Data de nascimento nao confere' }, 'a birth date that does not match is refused too')
  const nm = await view(ids.noMargin)
  t.match(nm, { status: 'SUCCESS', marginBaseValue: '0.00', simulationLimit: null }, 'no_margin: SUCCESS with 0.00 and no limits')
  t.equal((await view(ids.slow)).status, 'WAITING_CONSULT', 'slow stays WAITING_CONSULT past consultDelayMs')
  t.match(await view(ids.stranger), { status: 'SUCCESS', marginBaseValue: /^\d+\.\d{2}$/ }, 'a CPF outside the population behaves like ok, with some margin')
  clock.advance(5000)
  t.equal((await view(ids.slow)).status, 'SUCCESS', 'slow reaches SUCCESS after slowMs')
})

t.test('create refusals: validation, under 18, active consult for the same CPF', async (t) => {
  const { sb, clock, token } = await setup(t, 0)
  const [p] = await sb.people('ok', 1)
  const base = consultBodyFor(p!)
  const cases: Array<[string, Record<string, unknown>]> = [
    ['invalid CPF', { borrowerDocumentNumber: '12345678900' }],
    ['formatted CPF', { borrowerDocumentNumber: '529.982.247-25' }],
    ['gender', { gender: 'M' }],
    ['birthDate format', { birthDate: '14/02/1990' }],
    ['signerEmail', { signerEmail: 'nope' }],
    ['8-digit phone', { signerPhone: { phoneNumber: '88887777', countryCode: '55', areaCode: '11' } }],
    ['provider', { provider: 'XYZ' }],
    ['signerName', { signerName: '' }],
  ]
  for (const [what, change] of cases) {
    const res = await http(sb.url, 'POST', CONSULT, { token, json: { ...base, ...change } })
    t.equal(res.status, 400, `${what} → 400`)
    t.equal(res.body.type, 'validation_error', `${what} → validation_error`)
    t.type(res.body.detail, 'string', `${what}: detail says why`)
  }
  const minorBirth = new Date(clock.now() - 17 * 365.25 * 86_400_000).toISOString().slice(0, 10)
  const minor = await http(sb.url, 'POST', CONSULT, { token, json: { ...base, birthDate: minorBirth } })
  t.equal(minor.status, 400, 'under 18 → 400')
  t.match(minor.body, { type: 'age_validation_minimum_age_not_reached', title: 'Bad Request' }, 'age type')
  const first = await http(sb.url, 'POST', CONSULT, { token, json: base })
  t.equal(first.status, 201, 'first consult created')
  const dup = await http(sb.url, 'POST', CONSULT, { token, json: base })
  t.equal(dup.status, 400, 'duplicate → 400')
  t.match(dup.body, { type: 'consult_already_exists_by_user_and_document_number', title: 'Bad Request' }, 'duplicate type')
  await http(sb.url, 'POST', `${CONSULT}/${first.body.id}/authorize`, { token, json: {} })
  t.equal((await http(sb.url, 'POST', CONSULT, { token, json: base })).body.type, 'consult_already_exists_by_user_and_document_number', 'a SUCCESS consult is still active')
  const [rej] = await sb.people('rejected', 1)
  const r1 = await http(sb.url, 'POST', CONSULT, { token, json: consultBodyFor(rej!) })
  await http(sb.url, 'POST', `${CONSULT}/${r1.body.id}/authorize`, { token, json: {} })
  t.equal((await http(sb.url, 'POST', CONSULT, { token, json: consultBodyFor(rej!) })).status, 201, 'after REJECTED a new consult may be created')
  t.equal((await sb.stats()).consults_created, 3, 'refusals create nothing')
  const missing = await http(sb.url, 'POST', `${CONSULT}/00000000-0000-0000-0000-000000000000/authorize`, { token, json: {} })
  t.equal(missing.status, 404, 'authorize unknown id → 404')
  t.equal(missing.body.type, 'consult_not_found', 'consult_not_found')
  t.equal((await http(sb.url, 'GET', `${CONSULT}/nope`, { token })).status, 404, 'get unknown id → 404')
})

t.test('list: dates, search, status, provider, paging until data is empty', async (t) => {
  const { sb, clock, token } = await setup(t, 0)
  const people = await sb.people('ok', 7)
  const ids: string[] = []
  for (const [i, p] of people.entries()) {
    const c = await http(sb.url, 'POST', CONSULT, { token, json: consultBodyFor(p, { provider: i === 0 ? 'CELCOIN' : 'QI' }) })
    ids.push(c.body.id)
    clock.advance(1000)
  }
  await http(sb.url, 'POST', `${CONSULT}/${ids[1]}/authorize`, { token, json: {} })
  const list = (q: string) => http(sb.url, 'GET', `${CONSULT}?${q}`, { token })
  const all = await list('limit=100&page=1')
  t.equal(all.status, 200, 'list → 200')
  t.equal(all.body.data.length, 7, 'all seven')
  t.equal(all.body.data[0].id, ids[6], 'newest first')
  const pages: string[] = []
  for (let page = 1; ; page++) {
    const res = await list(`limit=3&page=${page}`)
    if (res.body.data.length === 0) break
    pages.push(...res.body.data.map((c: { id: string }) => c.id))
    t.ok(page < 10, 'paging ends')
  }
  t.same([...pages].sort(), [...ids].sort(), 'paging until empty visits every consult once')
  const search = await list(`search=${people[2]!.cpf}`)
  t.same(search.body.data.map((c: { id: string }) => c.id), [ids[2]], 'search by CPF digits')
  t.same((await list('status=SUCCESS')).body.data.map((c: { id: string }) => c.id), [ids[1]], 'status filter')
  t.same((await list('provider=CELCOIN')).body.data.map((c: { id: string }) => c.id), [ids[0]], 'provider filter')
  const from = new Date(clock.now() - 3500).toISOString()
  t.equal((await list(`startDate=${from}&endDate=${new Date(clock.now()).toISOString()}`)).body.data.length, 3, 'date window')
  const over = await list('limit=101')
  t.equal(over.status, 400, 'limit above 100 → 400')
  t.equal(over.body.type, 'validation_error', 'validation_error')
  t.equal((await list('startDate=yesterday')).status, 400, 'bad date → 400')
})

t.test('consults are scoped per V8 login', async (t) => {
  const { sb, token } = await setup(t, 0)
  const other = await v8Token(sb.url, 'outra@corban.local')
  const [p] = await sb.people('ok', 1)
  const mine = await http(sb.url, 'POST', CONSULT, { token, json: consultBodyFor(p!) })
  t.equal((await http(sb.url, 'GET', `${CONSULT}/${mine.body.id}`, { token: other })).status, 404, 'other login cannot read it')
  t.equal((await http(sb.url, 'GET', CONSULT, { token: other })).body.data.length, 0, 'other login lists nothing')
  t.equal((await http(sb.url, 'POST', `${CONSULT}/${mine.body.id}/authorize`, { token: other, json: {} })).status, 404, 'nor authorize it')
  const theirs = await http(sb.url, 'POST', CONSULT, { token: other, json: consultBodyFor(p!) })
  t.equal(theirs.status, 201, 'the same CPF can have a consult under another login')
  t.equal((await http(sb.url, 'GET', CONSULT, { token })).body.data.length, 1, 'first login still sees only its own')
})
