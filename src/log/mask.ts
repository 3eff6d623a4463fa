/** Masking of personal data and secrets in text that may reach a log line. */

/** A CPF written as 11 digits or as 000.000.000-00, not part of a longer number. */
const CPF_IN_TEXT = /(?<![\d.])(\d{3})\.?(\d{3})\.?(\d)(\d{2})-?(\d{2})(?![\d])/g

/** `12345678901` → `***.***.*89-01`. */
export function maskCpf (cpf: string): string {
  const digits = cpf.replace(/\D/g, '')
  if (digits.length !== 11) return '***'
  return `***.***.*${digits.slice(7, 9)}-${digits.slice(9)}`
}

/** Mask every CPF-shaped number in a text. */
export function maskCpfsInText (text: string): string {
  return text.replace(CPF_IN_TEXT, (_m, _a, _b, _c, d: string, e: string) => `***.***.*${d}-${e}`)
}

/** Replace each literal secret (≥ 4 chars) found in a text by `[REDACTED]`. */
export function scrubSecrets (text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    if (secret.length < 4) continue
    if (out.includes(secret)) out = out.split(secret).join('[REDACTED]')
    // A secret inside a JSON log line appears JSON-escaped.
    const escaped = JSON.stringify(secret).slice(1, -1)
    if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join('[REDACTED]')
  }
  return out
}
