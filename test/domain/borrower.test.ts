/** Borrower data from ordered sources (request, CRM, V8, tenant default): first valid value wins, its source kept; nothing invented. */
import t from 'tap'
import { checkBirthDate, checkEmail, checkGender, checkName, kentroValues, resolveBorrower, v8Values, type SourceValues } from '../../src/domain/borrower.js'
import type { Opportunity } from '../../src/upstream/kentro.js'

const NOW = Date.UTC(2026, 5, 15, 12)
const CPF = '52998224725'

function opportunity (forms: Record<string, unknown> = {}, extra: Partial<Opportunity> = {}): Opportunity {
  return {
    id: '100',
    title: 'MARIA DA SILVA',
    mainphone: '5511987654321',
    mainmail: CPF,
    tags: [],
    formsdata: { '9e7f92b0': 'maria@example.com', '0bfc6250': '14/08/1993', ...forms },
    ...extra,
  } as Opportunity
}

const request = (values: SourceValues['values']): SourceValues => ({ source: 'request', values, strict: true })
const tenant = (sexo: string): SourceValues => ({ source: 'tenant_default', values: { sexo } })
const V8 = v8Values({ name: 'MARIA DA SILVA', birthDate: '1993-08-14T00:00:00.000Z', email: 'maria.v8@example.com', phoneRegionCode: '11', phoneNumber: '987654321', gender: 'female' })

t.test('a CRM shaped like the public samples has no gender: V8 fills it, the source is recorded', async (t) => {
  const crm = kentroValues(opportunity(), '')
  const alone = resolveBorrower({ cpf: CPF, sources: [crm], now: NOW })
  t.same(!alone.ok && alone.campos, ['sexo'], 'the CRM alone lacks only the gender')
  const v = resolveBorrower({ cpf: CPF, sources: [request({}), crm, V8], now: NOW })
  t.ok(v.ok, 'valid')
  if (!v.ok) return
  t.match(v.borrower, { name: 'MARIA DA SILVA', birthDate: '1993-08-14', email: 'maria@example.com', gender: 'F', mobile: { full: '11987654321' } }, 'normalized')
  t.same(v.borrower.sources, { nome: 'kentro', email: 'kentro', telefone: 'kentro', data_nascimento: 'kentro', sexo: 'v8' }, 'CRM first; the gender from V8')
})

t.test('titles that are not names, "null" e-mails, "NN anos" birth dates: the next source', async (t) => {
  for (const title of ['52998224725', '5511976543210', 'Cliente 52998224725', 'Oportunidade CPF 52998224725']) {
    const v = resolveBorrower({ cpf: CPF, sources: [kentroValues(opportunity({}, { title }), ''), V8], now: NOW })
    t.ok(v.ok && v.borrower.sources.nome === 'v8' && v.borrower.name === 'MARIA DA SILVA', `title "${title}" is not a name: V8's`)
  }
  const v = resolveBorrower({ cpf: CPF, sources: [kentroValues(opportunity({ '9e7f92b0': 'null', '0bfc6250': '14/08/1993    32 anos' }), ''), V8], now: NOW })
  t.ok(v.ok, 'valid')
  if (!v.ok) return
  t.equal(v.borrower.sources.email, 'v8', '"null" is no e-mail')
  t.equal(v.borrower.birthDate, '1993-08-14', 'the export\'s "DD/MM/YYYY    NN anos" is a date')
  t.equal(v.borrower.sources.data_nascimento, 'kentro', 'from the CRM')
})

t.test('gender: request → CRM key (when the tenant has one) → V8 → the tenant\'s declared default → missing', async (t) => {
  const noGenderV8 = v8Values({ name: 'MARIA DA SILVA', birthDate: null, email: 'm@example.com', phoneRegionCode: null, phoneNumber: null, gender: null })
  const crm = kentroValues(opportunity({ genero: 'masculino' }), 'genero')
  const pick = (sources: SourceValues[]) => {
    const v = resolveBorrower({ cpf: CPF, sources, now: NOW })
    return v.ok ? [v.borrower.gender, v.borrower.sources.sexo] : v.campos
  }
  t.same(pick([request({ sexo: 'F' }), crm, V8, tenant('M')]), ['F', 'request'], 'the request wins')
  t.same(pick([request({}), crm, V8, tenant('F')]), ['M', 'kentro'], 'then the CRM key the tenant configured')
  t.same(pick([request({}), kentroValues(opportunity(), ''), V8, tenant('M')]), ['F', 'v8'], 'then V8')
  t.same(pick([request({}), kentroValues(opportunity(), ''), noGenderV8, tenant('M')]), ['M', 'tenant_default'], "then the tenant's declared default")
  t.same(pick([request({}), kentroValues(opportunity(), ''), noGenderV8, tenant('')]), ['sexo'], 'else missing: nothing invented')
})

t.test('missing fields are listed, not invented', async (t) => {
  const v = resolveBorrower({ cpf: CPF, sources: [kentroValues(opportunity({ '0bfc6250': undefined, '9e7f92b0': '' }), '')], now: NOW })
  t.notOk(v.ok, 'invalid')
  if (v.ok) return
  t.same(v.campos, ['email', 'data_nascimento', 'sexo'], 'the three missing fields, in a stable order')
  t.match(v.motivos.data_nascimento, /ausente/, 'reason says missing')
})

t.test('dados_cliente fills gaps and overrides the CRM', async (t) => {
  const v = resolveBorrower({
    cpf: CPF,
    sources: [request({ data_nascimento: '1990-01-31', email: 'Outro@Example.com', sexo: 'F' }), kentroValues(opportunity({ '0bfc6250': undefined }), '')],
    now: NOW,
  })
  t.ok(v.ok, 'valid with the supplied data')
  if (!v.ok) return
  t.equal(v.borrower.birthDate, '1990-01-31', 'supplied birth date')
  t.equal(v.borrower.email, 'outro@example.com', 'supplied e-mail wins, lower-cased')
  t.equal(v.borrower.sources.data_nascimento, 'request', 'origin recorded')
  t.equal(v.borrower.sources.nome, 'kentro', 'untouched fields stay from the CRM')
})

t.test('an invalid supplied value is reported as such, not replaced by another source', async (t) => {
  const v = resolveBorrower({ cpf: CPF, sources: [request({ telefone: '123', sexo: 'F' }), kentroValues(opportunity(), ''), V8], now: NOW })
  t.notOk(v.ok, 'invalid')
  if (v.ok) return
  t.same(v.campos, ['telefone'], 'only the phone')
  t.match(v.motivos.telefone, /dados_cliente/, 'says the bad value came from dados_cliente')
})

t.test('without Kentro everything comes from the request or V8', async (t) => {
  const none = resolveBorrower({ cpf: CPF, sources: [kentroValues(null, '')], now: NOW })
  t.same(!none.ok && none.campos, ['nome', 'email', 'telefone', 'data_nascimento', 'sexo'], 'all five missing without an opportunity')
  const full = resolveBorrower({
    cpf: CPF,
    sources: [request({ nome: 'Ana Souza', email: 'a@b.com.br', telefone: '(21) 99999-0000', data_nascimento: '01/02/1980', sexo: 'F' }), kentroValues(null, '')],
    now: NOW,
  })
  t.ok(full.ok, 'complete dados_cliente alone is enough')
  const v8 = resolveBorrower({ cpf: CPF, sources: [kentroValues(null, ''), V8], now: NOW })
  t.ok(v8.ok && v8.borrower.mobile.full === '11987654321', "V8's record alone is enough too (area code + number)")
})

t.test('field checks', async (t) => {
  t.ok(checkName('José D\'Ávila').ok, 'accents and apostrophes')
  t.notOk(checkName('Maria').ok, 'a single word')
  t.notOk(checkName('Lead 123').ok, 'digits')
  t.notOk(checkName('Cliente Novo Lead').ok, 'a CRM placeholder title')
  t.notOk(checkName('x'.repeat(200) + ' y').ok, 'too long')
  t.ok(checkEmail('a.b+c@sub.example.com').ok, 'plus and subdomain')
  t.notOk(checkEmail('a@b').ok, 'no dot in the domain')
  t.notOk(checkEmail('a b@c.com').ok, 'space')
  t.match(checkEmail('null'), { ok: false, motivo: /ausente/ }, 'the literal "null" is no e-mail')
  t.same(checkBirthDate('1993-08-14', NOW), { ok: true, value: '1993-08-14' }, 'ISO')
  t.same(checkBirthDate('1993-08-14T00:00:00.000Z', NOW), { ok: true, value: '1993-08-14' }, 'ISO date-time')
  t.same(checkBirthDate('4/8/1993', NOW), { ok: true, value: '1993-08-04' }, 'single-digit day and month')
  t.notOk(checkBirthDate('31/02/1990', NOW).ok, 'not a real day')
  t.notOk(checkBirthDate('1990/01/01', NOW).ok, 'unknown format')
  t.same(checkBirthDate('14/08/1993    32 anos', NOW), { ok: true, value: '1993-08-14' }, 'with the export\'s age suffix')
  t.same(checkBirthDate('14/08/ 1993', NOW), { ok: true, value: '1993-08-14' }, 'a blank inside')
  t.same(checkBirthDate('14081993', NOW), { ok: true, value: '1993-08-14' }, 'DDMMYYYY')
  t.same(checkBirthDate('14.08.1993', NOW), { ok: true, value: '1993-08-14' }, 'dots')
  t.match(checkBirthDate('01/01/2010', NOW), { ok: false, motivo: /18/ }, 'under 18')
  t.notOk(checkBirthDate('01/01/1900', NOW).ok, 'over 100')
  t.ok(checkBirthDate('15/06/2008', NOW).ok, 'turns 18 today')
  t.notOk(checkBirthDate('16/06/2008', NOW).ok, 'turns 18 tomorrow')
  t.same(checkGender('feminino'), { ok: true, value: 'F' }, 'word form')
  t.same(checkGender('male'), { ok: true, value: 'M' }, "V8's form")
  t.notOk(checkGender('X').ok, 'unknown letter')
})
