/** Borrower validation: CRM data, dados_cliente overrides, nothing invented. */
import t from 'tap'
import { checkBirthDate, checkEmail, checkGender, checkName, validateBorrower } from '../../src/domain/borrower.js'
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
    formsdata: { '9e7f92b0': 'maria@example.com', '0bfc6250': '14/08/1993', sexo: 'F', ...forms },
    ...extra,
  } as Opportunity
}

t.test('a complete opportunity validates, normalized', async (t) => {
  const v = validateBorrower({ cpf: CPF, opportunity: opportunity(), genderField: 'sexo', now: NOW })
  t.ok(v.ok, 'valid')
  if (!v.ok) return
  t.equal(v.borrower.nome, 'MARIA DA SILVA', 'name from the title')
  t.equal(v.borrower.birthDate, '1993-08-14', 'DD/MM/YYYY → ISO')
  t.equal(v.borrower.mobile.full, '11987654321', 'phone normalized')
  t.equal(v.borrower.email, 'maria@example.com', 'email')
  t.equal(v.borrower.sexo, 'F', 'gender')
  t.same(v.borrower.origem, { nome: 'crm', email: 'crm', telefone: 'crm', data_nascimento: 'crm', sexo: 'crm' }, 'all from the CRM')
})

t.test('missing fields are listed, not invented', async (t) => {
  const v = validateBorrower({ cpf: CPF, opportunity: opportunity({ '0bfc6250': undefined, '9e7f92b0': '', sexo: undefined }), genderField: 'sexo', now: NOW })
  t.notOk(v.ok, 'invalid')
  if (v.ok) return
  t.same(v.campos, ['email', 'data_nascimento', 'sexo'], 'the three missing fields, in a stable order')
  t.match(v.motivos.data_nascimento, /ausente/, 'reason says missing')
})

t.test('dados_cliente fills gaps and overrides the CRM', async (t) => {
  const v = validateBorrower({
    cpf: CPF,
    opportunity: opportunity({ '0bfc6250': undefined }),
    dados: { data_nascimento: '1990-01-31', email: 'Outro@Example.com' },
    genderField: 'sexo',
    now: NOW,
  })
  t.ok(v.ok, 'valid with the supplied data')
  if (!v.ok) return
  t.equal(v.borrower.birthDate, '1990-01-31', 'supplied birth date')
  t.equal(v.borrower.email, 'outro@example.com', 'supplied e-mail wins, lower-cased')
  t.equal(v.borrower.origem.data_nascimento, 'cliente', 'origin recorded')
  t.equal(v.borrower.origem.nome, 'crm', 'untouched fields stay from the CRM')
})

t.test('an invalid supplied value is reported as such', async (t) => {
  const v = validateBorrower({ cpf: CPF, opportunity: opportunity(), dados: { telefone: '123' }, genderField: 'sexo', now: NOW })
  t.notOk(v.ok, 'invalid')
  if (v.ok) return
  t.same(v.campos, ['telefone'], 'only the phone')
  t.match(v.motivos.telefone, /dados_cliente/, 'says the bad value came from dados_cliente')
})

t.test('the gender key is per tenant; without Kentro everything comes from dados_cliente', async (t) => {
  const v = validateBorrower({ cpf: CPF, opportunity: opportunity({ genero: 'masculino', sexo: undefined }), genderField: 'genero', now: NOW })
  t.ok(v.ok && v.borrower.sexo === 'M', 'read from the configured key')
  const none = validateBorrower({ cpf: CPF, opportunity: null, genderField: 'sexo', now: NOW })
  t.same(!none.ok && none.campos, ['nome', 'email', 'telefone', 'data_nascimento', 'sexo'], 'all five missing without an opportunity')
  const full = validateBorrower({
    cpf: CPF,
    opportunity: null,
    dados: { nome: 'Ana Souza', email: 'a@b.com.br', telefone: '(21) 99999-0000', data_nascimento: '01/02/1980', sexo: 'F' },
    genderField: 'sexo',
    now: NOW,
  })
  t.ok(full.ok, 'complete dados_cliente alone is enough')
})

t.test('field checks', async (t) => {
  t.ok(checkName('José D\'Ávila').ok, 'accents and apostrophes')
  t.notOk(checkName('Maria').ok, 'a single word')
  t.notOk(checkName('Lead 123').ok, 'digits')
  t.notOk(checkName('x'.repeat(200) + ' y').ok, 'too long')
  t.ok(checkEmail('a.b+c@sub.example.com').ok, 'plus and subdomain')
  t.notOk(checkEmail('a@b').ok, 'no dot in the domain')
  t.notOk(checkEmail('a b@c.com').ok, 'space')
  t.same(checkBirthDate('1993-08-14', NOW), { ok: true, value: '1993-08-14' }, 'ISO')
  t.same(checkBirthDate('1993-08-14T00:00:00.000Z', NOW), { ok: true, value: '1993-08-14' }, 'ISO date-time')
  t.same(checkBirthDate('4/8/1993', NOW), { ok: true, value: '1993-08-04' }, 'single-digit day and month')
  t.notOk(checkBirthDate('31/02/1990', NOW).ok, 'not a real day')
  t.notOk(checkBirthDate('1990/01/01', NOW).ok, 'unknown format')
  t.match(checkBirthDate('01/01/2010', NOW), { ok: false, motivo: /18/ }, 'under 18')
  t.notOk(checkBirthDate('01/01/1900', NOW).ok, 'over 100')
  t.ok(checkBirthDate('15/06/2008', NOW).ok, 'turns 18 today')
  t.notOk(checkBirthDate('16/06/2008', NOW).ok, 'turns 18 tomorrow')
  t.same(checkGender('feminino'), { ok: true, value: 'F' }, 'word form')
  t.notOk(checkGender('X').ok, 'unknown letter')
})
