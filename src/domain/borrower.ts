/** Borrower data for a V8 consult, from the Kentro opportunity and the caller's dados_cliente; validated, never invented. */
import type { Opportunity } from '../upstream/kentro.js'
import type { DadosCliente } from './flow-types.js'
import { normalizeMobile, PHONE_PROBLEM_PT, type Mobile } from './phone.js'

/** Kentro formsdata keys (UPSTREAM.md §2); gender's key is per tenant (KENTRO_GENDER_FIELD). */
export const FORMS = { email: '9e7f92b0', birthDate: '0bfc6250', mobile: '98167d80' } as const

export type Field = 'nome' | 'email' | 'telefone' | 'data_nascimento' | 'sexo'
export const FIELDS: readonly Field[] = ['nome', 'email', 'telefone', 'data_nascimento', 'sexo']

export interface Borrower {
  cpf: string
  nome: string
  email: string
  mobile: Mobile
  /** YYYY-MM-DD */
  birthDate: string
  sexo: 'M' | 'F'
  /** Where each value came from; `cliente` values are written back to the CRM. */
  origem: Record<Field, 'crm' | 'cliente'>
}

export type Validation = { ok: true; borrower: Borrower } | { ok: false; campos: Field[]; motivos: Partial<Record<Field, string>> }

type Check<T> = { ok: true; value: T } | { ok: false; motivo: string }

const MAX_AGE = 100
const MIN_AGE = 18

export function checkName (raw: unknown): Check<string> {
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, motivo: 'nome ausente' }
  const name = raw.trim().replace(/\s+/g, ' ')
  if (name.length > 120) return { ok: false, motivo: 'nome longo demais (máximo 120 caracteres)' }
  if (!/^[\p{L}][\p{L}'.\- ]*$/u.test(name)) return { ok: false, motivo: 'nome deve ter apenas letras' }
  if (name.split(' ').filter((w) => /\p{L}/u.test(w)).length < 2) return { ok: false, motivo: 'informe nome e sobrenome' }
  return { ok: true, value: name }
}

export function checkEmail (raw: unknown): Check<string> {
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, motivo: 'e-mail ausente' }
  const email = raw.trim().toLowerCase()
  if (email.length > 254 || !/^[^\s@"'<>(),;:]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/.test(email)) {
    return { ok: false, motivo: 'e-mail inválido' }
  }
  return { ok: true, value: email }
}

/** DD/MM/YYYY (Kentro), YYYY-MM-DD (ISO, optionally with a time) or DD-MM-YYYY → YYYY-MM-DD; a real date, age 18–100. */
export function checkBirthDate (raw: unknown, now: number): Check<string> {
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, motivo: 'data de nascimento ausente' }
  const s = raw.trim()
  const br = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s)
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
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, motivo: 'sexo ausente' }
  const g = raw.trim().toUpperCase()
  if (['M', 'MASCULINO', 'MALE', 'HOMEM'].includes(g)) return { ok: true, value: 'M' }
  if (['F', 'FEMININO', 'FEMALE', 'MULHER'].includes(g)) return { ok: true, value: 'F' }
  return { ok: false, motivo: 'sexo deve ser M ou F' }
}

export function checkPhone (raw: unknown): Check<Mobile> {
  const r = normalizeMobile(raw)
  return r.ok ? { ok: true, value: r.mobile } : { ok: false, motivo: PHONE_PROBLEM_PT[r.problem] }
}

/** The CRM's raw values for each field. The mobile comes from mainphone, else the form's mobile field. */
export function crmValues (opp: Opportunity | null, genderField: string): Record<Field, unknown> {
  const f = opp?.formsdata ?? {}
  const phone = opp?.mainphone && normalizeMobile(opp.mainphone).ok ? opp.mainphone : (f[FORMS.mobile] ?? opp?.mainphone)
  return {
    nome: opp?.title,
    email: f[FORMS.email],
    telefone: phone,
    data_nascimento: f[FORMS.birthDate],
    sexo: f[genderField],
  }
}

const CHECKS: { [K in Field]: (raw: unknown, now: number) => Check<unknown> } = {
  nome: checkName,
  email: checkEmail,
  telefone: checkPhone,
  data_nascimento: checkBirthDate,
  sexo: checkGender,
}

/**
 * Validate every field. A value the caller supplied in dados_cliente wins over the CRM's (it is an explicit correction,
 * and it is written back to the CRM); otherwise the CRM's value is used. Missing or invalid → listed in `campos`.
 */
export function validateBorrower (input: {
  cpf: string
  opportunity: Opportunity | null
  dados?: DadosCliente | Partial<Record<Field, unknown>> | undefined
  genderField: string
  now: number
}): Validation {
  const crm = crmValues(input.opportunity, input.genderField)
  const given: Partial<Record<Field, unknown>> = input.dados ?? {}
  const values: Partial<Record<Field, unknown>> = {}
  const origem = {} as Record<Field, 'crm' | 'cliente'>
  const motivos: Partial<Record<Field, string>> = {}
  for (const field of FIELDS) {
    const supplied = given[field]
    const fromCaller = supplied !== undefined && supplied !== null && String(supplied).trim() !== ''
    const r = CHECKS[field](fromCaller ? supplied : crm[field], input.now)
    if (r.ok) {
      values[field] = r.value
      origem[field] = fromCaller ? 'cliente' : 'crm'
    } else {
      motivos[field] = fromCaller ? `${r.motivo} (em dados_cliente)` : r.motivo
    }
  }
  const campos = FIELDS.filter((f) => motivos[f] !== undefined)
  if (campos.length > 0) return { ok: false, campos, motivos }
  return {
    ok: true,
    borrower: {
      cpf: input.cpf,
      nome: values.nome as string,
      email: values.email as string,
      mobile: values.telefone as Mobile,
      birthDate: values.data_nascimento as string,
      sexo: values.sexo as 'M' | 'F',
      origem,
    },
  }
}

/** YYYY-MM-DD → DD/MM/YYYY (how Kentro forms hold dates). */
export function toBrDate (iso: string): string {
  const [y, m, d] = iso.split('-')
  return `${d}/${m}/${y}`
}

function pad (n: number): string {
  return String(n).padStart(2, '0')
}
