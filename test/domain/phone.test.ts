/** Mobile normalization (UPSTREAM.md §4). */
import t from 'tap'
import { normalizeMobile } from '../../src/domain/phone.js'

const ok = (raw: unknown): string | null => {
  const r = normalizeMobile(raw)
  return r.ok ? r.mobile.full : null
}

t.test('the formats CRMs hold all normalize to DDD + 9-digit mobile', async (t) => {
  t.equal(ok('5511987654321'), '11987654321', 'country code dropped')
  t.equal(ok('+55 (11) 98765-4321'), '11987654321', 'formatted with country code')
  t.equal(ok('(11) 98765-4321'), '11987654321', 'formatted without country code')
  t.equal(ok('11987654321'), '11987654321', 'bare digits')
  t.equal(ok(11987654321), '11987654321', 'a number')
  t.equal(ok('011987654321'), '11987654321', 'trunk zero before the area code')
  t.equal(ok('1187654321'), '11987654321', 'old 8-digit mobile gets its leading 9')
  t.equal(ok('551187654321'), '11987654321', 'old 8-digit mobile with country code')
  t.equal(ok('55987654321'), '55987654321', 'area code 55 (RS) is not mistaken for the country code')
})

t.test('parts are what V8 signerPhone takes', async (t) => {
  const r = normalizeMobile('+55 18 99126-3513')
  t.ok(r.ok, 'valid')
  if (r.ok) {
    t.equal(r.mobile.areaCode, '18', 'area code')
    t.equal(r.mobile.number, '991263513', '9 digits starting with 9')
  }
})

t.test('problems are named, never guessed around', async (t) => {
  const problem = (raw: unknown): string | null => {
    const r = normalizeMobile(raw)
    return r.ok ? null : r.problem
  }
  t.equal(problem(undefined), 'ausente', 'undefined')
  t.equal(problem(''), 'ausente', 'empty')
  t.equal(problem('abc'), 'ausente', 'no digits')
  t.equal(problem({}), 'ausente', 'an object')
  t.equal(problem('12345'), 'tamanho_invalido', 'too short')
  t.equal(problem('119876543210000'), 'tamanho_invalido', 'too long')
  t.equal(problem('0987654321'), 'ddd_invalido', 'ten digits starting with 0: area code 09')
  t.equal(problem('10987654321'), 'ddd_invalido', 'area code 10')
  t.equal(problem('11387654321'), 'nao_e_celular', '9 digits not starting with 9')
})
