/**
 * The Kentro (AtenderBem) opportunity as real instances answer it (test/fixtures/upstream/kentro cites the callers):
 * the fields we use checked, the other ~45 passed through; where the person's CPF lives; what is an empty value.
 */
import { z } from 'zod'

/** formsdata keys of the CLT tenants' forms (lunasdigital export header; kentro.md §4). Keys are per instance. */
export const FORM_KEYS = {
  cpf: '98011220',
  email: '9e7f92b0',
  birthDate: '0bfc6250',
  mother: '917456f0',
  /** "Celular para SMS": often "0" or "null"; mainphone is the better source. */
  mobile: '98167d80',
  cep: '1836e090',
  street: '1dbfcef0',
  number: '6ac31450',
  district: '3271f710',
  city: '25178280',
  state: 'f6384400',
} as const

/** int[] is the API's form; a comma string ("2,6") and string ids (["6"]) are tolerated, junk entries dropped. */
export const tagsSchema = z
  .union([z.array(z.union([z.number(), z.string()])), z.string(), z.number(), z.null()])
  .optional()
  .transform((v): number[] => {
    const list = v === null || v === undefined ? [] : Array.isArray(v) ? v : typeof v === 'number' ? [v] : v.split(',')
    return list.map((t) => (typeof t === 'number' ? t : Number(String(t).trim()))).filter((t) => Number.isInteger(t) && t > 0)
  })

const text = z.union([z.string(), z.number()]).nullish().transform((v) => (v === null || v === undefined ? '' : String(v)))

export const opportunitySchema = z
  .object({
    id: z.union([z.number().int(), z.string().regex(/^\d+$/)]).transform(String),
    title: text,
    mainphone: text,
    mainmail: text,
    fkPipeline: z.coerce.number().nullish(),
    fkStage: z.coerce.number().nullish(),
    /** 0 open, 1 won, 2 lost (listings only return open ones). */
    status: z.unknown().optional(),
    value: z.unknown().optional(),
    description: z.string().nullish(),
    createdAt: z.string().nullish(),
    tags: tagsSchema,
    formsdata: z
      .union([z.record(z.string(), z.unknown()), z.array(z.unknown()), z.null()])
      .optional()
      .transform((v): Record<string, unknown> => (v && !Array.isArray(v) ? v : {})),
  })
  .loose()
export type Opportunity = z.output<typeof opportunitySchema>

/** A form value as text, or '' for what the CRM uses as empty: JSON null, "", blanks, and the literal "null". */
export function formValue (v: unknown): string {
  if (v === null || v === undefined) return ''
  const s = String(v).trim()
  return s.toLowerCase() === 'null' ? '' : s
}

/** 11 CPF digits from a CRM text ("123.456.789-01", "12345678901", one that lost leading zeros), or ''. */
export function cpfDigits (raw: unknown): string {
  const digits = formValue(raw).replace(/\D/g, '')
  if (digits.length === 11) return digits
  // A number column dropped the leading zeros: 9 or 10 digits are a CPF that started with 0 or 00.
  if (digits.length === 9 || digits.length === 10) return digits.padStart(11, '0')
  return ''
}

/** A title that holds a CPF: only the CPF ("73620845107") or "Cliente <cpf>" / "Oportunidade CPF <cpf>". */
function cpfInTitle (title: string): string {
  const m = /^(?:(?:cliente|oportunidade(?:\s+cpf)?|cpf)\s*:?\s*)?(\d{3}\.?\d{3}\.?\d{3}-?\d{2})$/i.exec(title.trim())
  return m ? m[1]!.replace(/\D/g, '') : ''
}

/**
 * The CPFs an opportunity may hold, most reliable first: `mainmail` (the CLT tenants keep the CPF there), the form's
 * CPF field, then a title that is a CPF. Duplicates removed; check digits are the domain's business.
 */
export function cpfCandidates (o: Pick<Opportunity, 'mainmail' | 'title' | 'formsdata'>): string[] {
  const found = [cpfDigits(o.mainmail), cpfDigits(o.formsdata[FORM_KEYS.cpf]), cpfInTitle(o.title)].filter((c) => c !== '')
  return [...new Set(found)]
}
