/** Brazilian mobile numbers (UPSTREAM.md §4): digits only, no country code, 2-digit area code + 9-digit mobile. */

export interface Mobile {
  /** Two digits, 11–99. */
  areaCode: string
  /** Nine digits starting with 9 (what V8's signerPhone.phoneNumber takes). */
  number: string
  /** areaCode + number: 11 digits. */
  full: string
}

export type PhoneProblem = 'ausente' | 'tamanho_invalido' | 'ddd_invalido' | 'nao_e_celular'

/**
 * Normalize a phone as CRMs hold it (`+55 (11) 98765-4321`, `5511987654321`, `11987654321`, `(11) 8765-4321`, `011…`):
 * non-digits and a leading `55` country code (only when the number is too long without it) are dropped, a trunk `0`
 * before the area code too; an 8-digit number gets the mobile `9` in front. Anything else is a problem, not a guess.
 */
export function normalizeMobile (raw: unknown): { ok: true; mobile: Mobile } | { ok: false; problem: PhoneProblem } {
  if (typeof raw !== 'string' && typeof raw !== 'number') return { ok: false, problem: 'ausente' }
  let digits = String(raw).replace(/\D/g, '')
  if (digits === '') return { ok: false, problem: 'ausente' }
  if (digits.length >= 12 && digits.startsWith('55')) digits = digits.slice(2)
  if ((digits.length === 11 || digits.length === 12) && digits.startsWith('0')) digits = digits.slice(1)
  if (digits.length !== 10 && digits.length !== 11) return { ok: false, problem: 'tamanho_invalido' }
  const areaCode = digits.slice(0, 2)
  let number = digits.slice(2)
  if (Number(areaCode) < 11) return { ok: false, problem: 'ddd_invalido' }
  if (number.length === 8) number = `9${number}`
  if (!number.startsWith('9')) return { ok: false, problem: 'nao_e_celular' }
  return { ok: true, mobile: { areaCode, number, full: areaCode + number } }
}

export const PHONE_PROBLEM_PT: Record<PhoneProblem, string> = {
  ausente: 'telefone ausente',
  tamanho_invalido: 'telefone deve ter DDD + número (10 ou 11 dígitos, sem o 55)',
  ddd_invalido: 'DDD inválido (deve estar entre 11 e 99)',
  nao_e_celular: 'o número não é de celular (celulares têm 9 dígitos começando com 9)',
}
