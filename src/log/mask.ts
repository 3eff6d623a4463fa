/** Masking of personal data and secrets in text that may reach a log line, and bounds on caller-chosen text. */

/** One CPF digit: plain or percent-encoded (`%35` = 5). */
const D = String.raw`(?:\d|%3\d)`
/** Between digit groups: up to three of . - _ space / + or their percent-encodings (%2E %2D %5F %20 %2F %2B). */
const SEP = String.raw`(?:[ ._/+-]|%2[0BbDdEeFf]|%5[Ff]){0,3}`
/** A CPF in any separator style (529.982.247-25, 529 982 247 25, 529_982_…, %35%32…), not part of a longer number. */
const CPF_IN_TEXT = new RegExp(String.raw`(?<!\d)${D}{3}${SEP}${D}{3}${SEP}${D}{3}${SEP}${D}{2}(?!${D})`, 'g')

/** `12345678901` → `***.***.*89-01`. */
export function maskCpf (cpf: string): string {
  const digits = cpf.replace(/\D/g, '')
  if (digits.length !== 11) return '***'
  return `***.***.*${digits.slice(7, 9)}-${digits.slice(9)}`
}

/** The common forms (11 digits, 000.000.000-00, dots or dashes anywhere between groups), cheap enough for every line. */
const PLAIN_CPF = /(?<![\d.])(\d{3})[.-]?(\d{3})[.-]?(\d)(\d{2})[.-]?(\d{2})(?!\d)/g
/** Whether a text may hold another form: a digit followed by a blank, _ / + or %, or a percent-encoded digit. */
const OTHER_FORMS = /\d[ _/+%]|%3\d/

/** Mask every CPF-shaped number in a text, whatever separates its digit groups and however its digits are encoded. */
export function maskCpfsInText (text: string): string {
  const out = text.replace(PLAIN_CPF, (_m, _a, _b, _c, d: string, e: string) => `***.***.*${d}-${e}`)
  if (!OTHER_FORMS.test(out)) return out
  return out.replace(CPF_IN_TEXT, (m: string) => {
    const digits = m.replace(/%3(\d)/g, '$1').replace(/\D/g, '')
    return digits.length === 11 ? `***.***.*${digits.slice(7, 9)}-${digits.slice(9)}` : m
  })
}

/** Replace each literal secret (≥ 4 chars) found in a text by `[REDACTED]`: as is, JSON-escaped and percent-encoded. */
export function scrubSecrets (text: string, secrets: readonly string[]): string {
  return scrubForms(text, formsOf(secrets))
}

/** A text with its owner's secrets scrubbed (see secretScrubber). */
export type SecretScrubber = (text: string) => string

/**
 * scrubSecrets for one owner of a changing list of secrets (a logger, a request log): the list's encoded forms are
 * kept here, with their owner, and computed again only when the secrets `secrets()` hands out change. The same
 * array (ConfigStore keeps one until the config changes) costs one identity check; another array with the same
 * secrets (a caller that builds it per call) costs a comparison of its few items.
 */
export function secretScrubber (secrets: () => readonly string[]): SecretScrubber {
  let seen: readonly string[] = []
  let forms: readonly string[] = []
  return (text) => {
    const current = secrets()
    if (current !== seen) {
      if (current.length !== seen.length || current.some((s, i) => s !== seen[i])) forms = formsOf(current)
      seen = current
    }
    return scrubForms(text, forms)
  }
}

function formsOf (secrets: readonly string[]): readonly string[] {
  return secrets.filter((s) => s.length >= 4).flatMap((s) => [...new Set([s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)])])
}

function scrubForms (text: string, forms: readonly string[]): string {
  let out = text
  for (const form of forms) {
    if (out.includes(form)) out = out.split(form).join('[REDACTED]')
  }
  return out
}

/**
 * A run of 32+ key characters (base64url, the alphabet of every generated API key and of token segments) that is
 * not a UUID (batch ids in URLs stay readable). Any tenant's key looks like this, not only this tenant's.
 */
const KEY_LIKE = /(?<![\w+-])[\w+-]{32,}(?![\w+-])/g
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function maskKeyLike (text: string): string {
  return text.replace(KEY_LIKE, (m) => (UUID.test(m) ? m : '[REDACTED]'))
}

const noSecrets: SecretScrubber = (text) => text

/** Percent-decode ASCII escapes (tolerant: malformed or non-ASCII sequences stay as they are). */
function decodeAscii (text: string): string {
  return text.replace(/%([0-7][0-9A-Fa-f])/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
}

/** Cut caller-chosen text to `max` characters, saying how much was left out. */
export function boundText (text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[+${text.length - max} chars]`
}

/**
 * A request URL as a log line may hold it: at most `max` characters, with CPFs, key-shaped tokens and the tenant's
 * secrets (`scrub`) masked in the raw text and in its percent-decoded form. When decoding would still reveal something the raw
 * masking missed (`%35%32%39…`, a fully percent-encoded key), the decoded, masked form is logged instead.
 */
export function maskUrl (url: string, scrub: SecretScrubber = noSecrets, max = 512): string {
  // Mask a little more than is kept, so a CPF or key cut at the edge is masked, not half shown.
  const head = url.length > max + 64 ? url.slice(0, max + 64) : url
  const mask = (s: string): string => maskKeyLike(maskCpfsInText(scrub(s)))
  let shown = mask(head)
  let decoded = shown
  for (let i = 0; i < 3; i++) {
    const next = decodeAscii(decoded)
    if (next === decoded) break
    decoded = next
  }
  if (decoded !== shown && mask(decoded) !== decoded) shown = mask(decoded)
  if (shown.length > max) return `${shown.slice(0, max)}…[+${Math.max(url.length, shown.length) - max} chars]`
  return url.length > head.length ? `${shown}…[+${url.length - head.length} chars]` : shown
}
