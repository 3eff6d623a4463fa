/** CPF check digits (mod 11, weights 10..2 then 11..2) for the sandbox population; self-contained on purpose. */

/** The two check digits of a 9-digit CPF base. */
export function cpfCheckDigits (base9: string): string {
  if (!/^\d{9}$/.test(base9)) throw new Error('a CPF base has 9 digits')
  const digit = (digits: string): number => {
    const weightStart = digits.length + 1
    let sum = 0
    for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * (weightStart - i)
    const r = sum % 11
    return r < 2 ? 0 : 11 - r
  }
  const d1 = digit(base9)
  const d2 = digit(base9 + String(d1))
  return `${d1}${d2}`
}

/** 11 digits, not all equal, both check digits right. Input must already be digits only. */
export function isValidCpf (cpf: string): boolean {
  if (!/^\d{11}$/.test(cpf) || /^(\d)\1{10}$/.test(cpf)) return false
  return cpfCheckDigits(cpf.slice(0, 9)) === cpf.slice(9)
}
