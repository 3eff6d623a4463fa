/** CPF normalization and check digits. */
import t from 'tap'
import { isValidCpf, normalizeCpf } from '../../src/domain/cpf.js'

t.test('normalizeCpf strips formatting and restores leading zeros', async (t) => {
  t.equal(normalizeCpf('529.982.247-25'), '52998224725', 'dots and dash removed')
  t.equal(normalizeCpf(' 529 982 247 25 '), '52998224725', 'blanks removed')
  t.equal(normalizeCpf(1234567890), '01234567890', 'a number gets its leading zero back')
  t.equal(normalizeCpf('234567890'), '00234567890', 'a 9-digit string gets two zeros back')
  t.equal(normalizeCpf('abc'), 'abc', 'junk stays junk')
})

t.test('isValidCpf checks both digits and rejects repeated digits', async (t) => {
  t.ok(isValidCpf('52998224725'), 'a known valid CPF')
  t.notOk(isValidCpf('52998224724'), 'wrong second digit')
  t.notOk(isValidCpf('52998224715'), 'wrong first digit')
  t.notOk(isValidCpf('11111111111'), 'all-equal digits')
  t.notOk(isValidCpf('5299822472'), 'ten digits')
  t.notOk(isValidCpf('529.982.247-25'), 'formatted input must be normalized first')
})
