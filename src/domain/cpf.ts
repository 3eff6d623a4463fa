/** CPF rules (UPSTREAM.md §4): strip formatting, two mod-11 check digits, all-equal digits invalid. */
import { unprocessable } from '../errors.js'

/**
 * The digits of a CPF as typed or exported: `.`, `-` and blanks removed. A number (or a bare digit
 * string of 9–10 digits, as spreadsheets write CPFs that start with zero) gets its leading zeros back.
 * Anything else is returned stripped of formatting only, so `isValidCpf` rejects it.
 */
export function normalizeCpf (raw: string | number): string {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? String(raw).padStart(11, '0') : String(raw)
  const trimmed = raw.trim()
  if (/^\d{9,10}$/.test(trimmed)) return trimmed.padStart(11, '0')
  return trimmed.replace(/[.\-\s]/g, '')
}

function checkDigit (digits: string): number {
  const weightStart = digits.length + 1
  let sum = 0
  for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * (weightStart - i)
  const r = sum % 11
  return r < 2 ? 0 : 11 - r
}

/** A valid CPF from its first nine digits: the two check digits appended (test data, samples). */
export function withCheckDigits (base9: string): string {
  const d1 = checkDigit(base9)
  return `${base9}${d1}${checkDigit(base9 + String(d1))}`
}

/** The first of `candidates` that is a valid CPF (a CRM record may hold several: mainmail, a form field, the title). */
export function firstValidCpf (candidates: readonly string[]): string | undefined {
  return candidates.find((c) => isValidCpf(normalizeCpf(c)))
}

/** 11 digits, not all equal, both check digits right. Pass the output of `normalizeCpf`. */
export function isValidCpf (cpf: string): boolean {
  if (!/^\d{11}$/.test(cpf) || /^(\d)\1{10}$/.test(cpf)) return false
  const d1 = checkDigit(cpf.slice(0, 9))
  const d2 = checkDigit(cpf.slice(0, 9) + String(d1))
  return cpf.slice(9) === `${d1}${d2}`
}

/**
 * The CPF's 11 digits, or a 422 `cpf_invalido` — the one rule every route, cache and batch uses (a well-typed
 * but wrong CPF is a business error, not a malformed request).
 */
export function validCpf (raw: string | number): string {
  const cpf = normalizeCpf(raw)
  if (!isValidCpf(cpf)) throw unprocessable('cpf_invalido', 'CPF inválido: informe 11 dígitos com os dígitos verificadores corretos.', { campo: 'cpf' })
  return cpf
}
