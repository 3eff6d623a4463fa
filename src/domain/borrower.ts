/**
 * Borrower data for a V8 consult, field by field from ordered sources (the request, the CRM, V8's own record, the
 * tenant's declared default): the first valid value wins and its source is kept. Nothing is invented.
 */
import { formValue, FORM_KEYS, type Opportunity } from '../upstream/kentro.js'
import type { ClientData } from '../upstream/v8.js'
import { normalizeMobile, PHONE_PROBLEM_PT, type Mobile } from './phone.js'

/** The fields a consult needs, named as the tenant API names them (`dados_cliente`, `campos`). */
export type Field = 'nome' | 'email' | 'telefone' | 'data_nascimento' | 'sexo'
export const FIELDS: readonly Field[] = ['nome', 'email', 'telefone', 'data_nascimento', 'sexo']

/** Where a value came from. */
export type Source = 'request' | 'kentro' | 'v8' | 'tenant_default'

export interface Borrower {
  cpf: string
  name: string
  email: string
  mobile: Mobile
  /** YYYY-MM-DD */
  birthDate: string
  gender: 'M' | 'F'
  sources: Record<Field, Source>
}

/** Raw values one source offers, by field; `strict` sources (the caller's own input) must be valid when given. */
export interface SourceValues {
  source: Source
  values: Partial<Record<Field, unknown>>
  strict?: boolean
}

export type Validation = { ok: true; borrower: Borrower } | { ok: false; campos: Field[]; motivos: Partial<Record<Field, string>> }

type Check<T> = { ok: true; value: T } | { ok: false; motivo: string }

const MAX_AGE = 100
const MIN_AGE = 18

/** A person's name: letters only, at least two words. CRM titles that are a CPF, a phone or "Cliente …" are not names. */
export function checkName (raw: unknown): Check<string> {
  const name = formValue(raw).replace(/\s+/g, ' ')
  if (name === '') return { ok: false, motivo: 'nome ausente' }
  if (name.length > 120) return { ok: false, motivo: 'nome longo demais (máximo 120 caracteres)' }
  if (/\d/.test(name) || /^(cliente|oportunidade|lead)\b/i.test(name)) return { ok: false, motivo: 'o título não é um nome (CPF, telefone ou "Cliente …")' }
  if (!/^[\p{L}][\p{L}'.\- ]*$/u.test(name)) return { ok: false, motivo: 'nome deve ter apenas letras' }
  if (name.split(' ').filter((w) => /\p{L}/u.test(w)).length < 2) return { ok: false, motivo: 'informe nome e sobrenome' }
  return { ok: true, value: name }
}

export function checkEmail (raw: unknown): Check<string> {
  const email = formValue(raw).toLowerCase()
  if (email === '') return { ok: false, motivo: 'e-mail ausente' }
  if (email.length > 254 || !/^[^\s@"'<>(),;:]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/.test(email)) {
    return { ok: false, motivo: 'e-mail inválido' }
  }
  return { ok: true, value: email }
}

/**
 * A birth date as CRMs and V8 write it → YYYY-MM-DD; a real date, age 18–100. Accepted: DD/MM/YYYY (also with `.`,
 * `-` or blanks, "DD/MM/ YYYY", and the export's "DD/MM/YYYY    NN anos"), DDMMYYYY, YYYY-MM-DD with or without time.
 */
export function checkBirthDate (raw: unknown, now: number): Check<string> {
  const s = formValue(raw).replace(/\s+\d{1,3}\s*anos?\s*$/i, '').trim()
  if (s === '') return { ok: false, motivo: 'data de nascimento ausente' }
  const br = /^(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{4})$/.exec(s) ?? /^(\d{2})(\d{2})(\d{4})$/.exec(s)
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(s)
  const [y, m, d] = br ? [Number(br[3]), Number(br[2]), Number(br[1])] : iso ? [Number(iso[1]), Number(iso[2]), Number(iso[3])] : [NaN, NaN, NaN]
  const date = new Date(Date.UTC(y, m - 1, d))
  if (!Number.isFinite(y) || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    return { ok: false, motivo: 'data de nascimento inválida (use DD/MM/AAAA ou AAAA-MM-DD)' }
  }
  const today = new Date(now)
  let age = today.getUTCFullYear() - y
  if (today.getUTCMonth() < m - 1 || (today.getUTCMonth() === m - 1 && today.getUTCDate() < d)) age--
  if (age < MIN_AGE) return { ok: false, motivo: `menor de ${MIN_AGE} anos (a V8 não aceita)` }
  if (age > MAX_AGE) return { ok: false, motivo: 'data de nascimento improvável (mais de 100 anos)' }
  return { ok: true, value: `${y}-${pad(m)}-${pad(d)}` }
}

export function checkGender (raw: unknown): Check<'M' | 'F'> {
  const g = formValue(raw).toUpperCase()
  if (g === '') return { ok: false, motivo: 'sexo ausente' }
  if (['M', 'MASC', 'MASCULINO', 'MALE', 'HOMEM'].includes(g)) return { ok: true, value: 'M' }
  if (['F', 'FEM', 'FEMININO', 'FEMALE', 'MULHER'].includes(g)) return { ok: true, value: 'F' }
  return { ok: false, motivo: 'sexo deve ser M ou F' }
}

export function checkPhone (raw: unknown): Check<Mobile> {
  const r = normalizeMobile(typeof raw === 'string' ? formValue(raw) : raw)
  return r.ok ? { ok: true, value: r.mobile } : { ok: false, motivo: PHONE_PROBLEM_PT[r.problem] }
}

/** What the CRM holds: the title as name, the form's fields, mainphone (else the form's "celular", often "0"). */
export function kentroValues (opp: Opportunity | null, genderField: string): SourceValues {
  const f = opp?.formsdata ?? {}
  const phone = opp?.mainphone && normalizeMobile(opp.mainphone).ok ? opp.mainphone : (formValue(f[FORM_KEYS.mobile]) || opp?.mainphone)
  return {
    source: 'kentro',
    values: {
      nome: opp?.title,
      email: f[FORM_KEYS.email],
      telefone: phone,
      data_nascimento: f[FORM_KEYS.birthDate],
      ...(genderField ? { sexo: f[genderField] } : {}),
    },
  }
}

/** What V8 knows of the person (client-data/basic): its phone comes as area code + number. */
export function v8Values (d: ClientData | undefined): SourceValues {
  if (!d) return { source: 'v8', values: {} }
  const number = (d.phoneNumber ?? '').replace(/\D/g, '')
  const region = (d.phoneRegionCode ?? '').replace(/\D/g, '')
  const phone = number.length >= 10 ? number : region && number ? region + number : ''
  return { source: 'v8', values: { nome: d.name, email: d.email, telefone: phone, data_nascimento: d.birthDate, sexo: d.gender } }
}

const CHECKS: { [K in Field]: (raw: unknown, now: number) => Check<unknown> } = {
  nome: checkName,
  email: checkEmail,
  telefone: checkPhone,
  data_nascimento: checkBirthDate,
  sexo: checkGender,
}

const present = (v: unknown): boolean => formValue(v) !== ''

/** The chosen value and source of each field asked for, or the fields no source fills with their reasons. */
export type FieldsValidation =
  | { ok: true; values: Partial<Record<Field, unknown>>; sources: Partial<Record<Field, Source>> }
  | { ok: false; campos: Field[]; motivos: Partial<Record<Field, string>> }

/**
 * Each of `fields` from the first source with a valid value, in the order given. A strict source's invalid value is
 * an error (the caller asked for it explicitly); another source's invalid value falls through to the next source.
 * A field no source fills is listed in `campos`, with the reason of the first source that had a value.
 */
export function resolveFields (input: { sources: readonly SourceValues[]; now: number; fields: readonly Field[] }): FieldsValidation {
  const values: Partial<Record<Field, unknown>> = {}
  const sources: Partial<Record<Field, Source>> = {}
  const motivos: Partial<Record<Field, string>> = {}
  for (const field of input.fields) {
    let firstProblem: string | undefined
    for (const s of input.sources) {
      const raw = s.values[field]
      if (!present(raw)) continue
      const r = CHECKS[field](raw, input.now)
      if (r.ok) {
        values[field] = r.value
        sources[field] = s.source
        firstProblem = undefined
        break
      }
      if (s.strict) {
        firstProblem = `${r.motivo} (em dados_cliente)`
        break
      }
      firstProblem ??= r.motivo
    }
    if (values[field] === undefined) motivos[field] = firstProblem ?? absent(field)
  }
  const campos = input.fields.filter((f) => motivos[f] !== undefined)
  if (campos.length > 0) return { ok: false, campos, motivos }
  return { ok: true, values, sources }
}

/** Every field a V8 consult needs (resolveFields over FIELDS), as a Borrower. */
export function resolveBorrower (input: { cpf: string; sources: readonly SourceValues[]; now: number }): Validation {
  const r = resolveFields({ sources: input.sources, now: input.now, fields: FIELDS })
  if (!r.ok) return r
  const { values } = r
  return {
    ok: true,
    borrower: {
      cpf: input.cpf,
      name: values.nome as string,
      email: values.email as string,
      mobile: values.telefone as Mobile,
      birthDate: values.data_nascimento as string,
      gender: values.sexo as 'M' | 'F',
      sources: r.sources as Record<Field, Source>,
    },
  }
}

function absent (field: Field): string {
  const r = CHECKS[field](undefined, 0)
  return r.ok ? 'ausente' : r.motivo
}

/** YYYY-MM-DD → DD/MM/YYYY (how Kentro forms hold dates). */
export function toBrDate (iso: string): string {
  const [y, m, d] = iso.split('-')
  return `${d}/${m}/${y}`
}

function pad (n: number): string {
  return String(n).padStart(2, '0')
}
