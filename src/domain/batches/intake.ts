/** The one rule for the CPFs a batch is made of: normalized, validated, the first occurrence of each wins, repeats counted. */
import { isValidCpf, normalizeCpf } from '../cpf.js'
import type { NewItem } from './types.js'

/** What is kept of an entry that is no CPF at all (it is stored as a failed item, so the caller sees which). */
const MAX_CPF_CHARS = 40

export interface IntakeOptions<T, I extends NewItem> {
  /** The entry's CPF as sent. */
  cpfOf: (entry: T) => string | number
  /**
   * Leave out entries whose CPF is blank: a spreadsheet row with an empty CPF cell holds no CPF. A list sent as
   * JSON keeps them, as invalid items, like any other entry that is no CPF.
   */
  skipBlank?: boolean
  /** The item of an entry seen first, from its CPF and validity (`base`) and the entry's own data. */
  item: (base: NewItem, entry: T, index: number) => I
  /** Told of each later entry with a CPF already seen; it is left out and counted in `duplicates`. */
  onRepeat?: (cpf: string, index: number) => void
}

/** Normalize, de-duplicate (first occurrence wins) and validate, in input order; invalid entries are kept as items. */
export function intake<T, I extends NewItem> (entries: readonly T[], opts: IntakeOptions<T, I>): { items: I[]; duplicates: number } {
  const seen = new Set<string>()
  const items: I[] = []
  let duplicates = 0
  entries.forEach((entry, index) => {
    const cpf = normalizeCpf(opts.cpfOf(entry)).slice(0, MAX_CPF_CHARS)
    if (cpf === '' && opts.skipBlank) return
    if (seen.has(cpf)) {
      duplicates++
      opts.onRepeat?.(cpf, index)
      return
    }
    seen.add(cpf)
    items.push(opts.item({ cpf, valid: isValidCpf(cpf) }, entry, index))
  })
  return { items, duplicates }
}

/** A batch's items from a list of CPFs (a JSON list, pasted text already split, a Kentro pipeline's). */
export function toItems (raw: readonly (string | number)[]): { items: NewItem[]; duplicates: number } {
  return intake(raw, { cpfOf: (value) => value, item: (base) => base })
}
