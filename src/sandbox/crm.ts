/**
 * The sandbox population's Kentro opportunities, shaped like the public samples (kentro.md §3–5): no gender key,
 * titles that are sometimes a CPF or "Cliente <cpf>", the CPF in mainmail in several spellings (or only in the
 * form's CPF field), tags as int[] / "2,6" / ["6"], missing or "null" e-mails, padded values, birth dates with
 * "NN anos". Every variant is chosen by the person's index, so a test knows which one it gets.
 */
import { INITIAL_STAGE, type Person } from './population.js'

/**
 * The formsdata key of each field of the sandbox CRM's CLT form, by its CRM label, as the lunasdigital export header
 * pairs them (`<Label> [#c-<key>]`, kentro.md §4): the CRM's own labels, misspelling included. There is no gender field.
 */
export const FORM = {
  CPF: '98011220',
  'E-mail': '9e7f92b0',
  'Data de Nascimento': '0bfc6250',
  'Nome da mãe': '917456f0',
  'Celular para SMS': '98167d80',
  CEP: '1836e090',
  Lougradouro: '1dbfcef0',
  Número: '6ac31450',
  Bairro: '3271f710',
  CIDADE: '25178280',
  UF: 'f6384400',
  AVERBADOR: '80b68ec0',
  TABELA: 'f0a67ce0',
  Documento: '6a93f650',
  PIX: '66f9ee40',
  Banco: 'cd34f870',
  Agencia: '7f6a0eb0',
  Conta: '769db520',
} as const

export type Opportunity = Record<string, unknown> & { id: number; formsdata: Record<string, unknown> }

/**
 * mainphone as CRMs really hold it: mostly 55+DDD+mobile, but also formatted, without the country code, or an old
 * 8-digit mobile without the leading 9 — tenants normalize it to /people's `telefone`.
 */
export function mainphoneOf (p: Person): string {
  const ddd = p.telefone.slice(0, 2)
  const mobile = p.telefone.slice(2)
  switch (p.index % 5) {
    case 1: return `+55 (${ddd}) ${mobile.slice(0, 5)}-${mobile.slice(5)}`
    case 2: return p.telefone
    case 4: return `55${ddd}${mobile.slice(1)}`
    default: return `55${p.telefone}`
  }
}

const formatted = (cpf: string): string => `${cpf.slice(0, 3)}.${cpf.slice(3, 6)}.${cpf.slice(6, 9)}-${cpf.slice(9)}`

/** index % 5: digits, formatted, digits, empty (the CPF only in the form's CPF field), digits without leading zeros. */
export function mainmailOf (p: Person): string {
  switch (p.index % 5) {
    case 1: return formatted(p.cpf)
    case 3: return ''
    case 4: return p.cpf.replace(/^0+/, '')
    default: return p.cpf
  }
}

/** index % 6: the name (upper or mixed case), the CPF, or "Cliente <cpf>": then only V8 or the caller knows the name. */
export function titleOf (p: Person): string {
  switch (p.index % 6) {
    case 1: return p.nome.toLowerCase().replace(/(^|\s)\p{L}/gu, (c) => c.toUpperCase())
    case 4: return p.cpf
    case 5: return `Cliente ${p.cpf}`
    default: return p.nome
  }
}

/** index % 3: int[], a comma string, string ids. */
export function tagsOf (p: Person): unknown {
  switch (p.index % 3) {
    case 1: return '2,6'
    case 2: return ['6']
    default: return [6]
  }
}

/** `value` in each of `fields`. */
const each = <V>(value: V, fields: string[]): Record<string, V> => Object.fromEntries(fields.map((f) => [f, value]))

/**
 * The ~30 fields of an opportunity nobody has worked yet as the public samples hold them (no caller reads them):
 * zero amounts, counters and user ids, empty location text, no coordinates or close date, not stagnated.
 */
const UNWORKED: Readonly<Record<string, unknown>> = {
  ...each(0, ['value', 'recurrentvalue', 'closevalue', 'closerecurrentvalue', 'order', 'origin', 'probability', 'closedat']),
  ...each(0, ['responsableid', 'createdby', 'closedby', 'filesCount', 'contactsCount', 'tasksCount', 'fk_campaign']),
  ...each('', ['clientid', 'formattedlocation', 'city', 'state', 'country', 'countrycode', 'postalcode', 'address1', 'address2', 'username']),
  ...each(null, ['lat', 'lon', 'expectedclosedate']),
  stagnated: false,
}

export function opportunityOf (p: Person, clone = false): Opportunity {
  const [y, m, d] = p.data_nascimento.split('-')
  const age = 2025 - Number(y)
  const birth = [`${d}/${m}/${y}`, `${d}/${m}/${y}    ${age} anos`, `${d}/${m}/${y} `][p.index % 3]!
  const formsdata: Record<string, unknown> = {
    [FORM['Data de Nascimento']]: birth,
    [FORM['Nome da mãe']]: `${p.mae}  `,
    [FORM['Celular para SMS']]: ['0', 'null', p.telefone][p.index % 3],
    [FORM.CEP]: p.index % 2 ? `${p.cep}  ` : p.cep,
    [FORM.Lougradouro]: p.rua,
    [FORM.Número]: p.index % 7 === 3 ? null : p.numero,
    [FORM.Bairro]: p.bairro,
    [FORM.CIDADE]: p.cidade,
    [FORM.UF]: p.index % 2 ? ` ${p.uf}` : p.uf,
    [FORM.AVERBADOR]: 'cartos',
  }
  // index % 4: the e-mail, none, the literal "null", the e-mail. V8 knows it when the CRM does not.
  if (p.index % 4 === 0 || p.index % 4 === 3) formsdata[FORM['E-mail']] = p.email
  if (p.index % 4 === 2) formsdata[FORM['E-mail']] = 'null'
  if (p.index % 5 === 3 || p.index % 5 === 0) formsdata[FORM.CPF] = p.cpf
  if (p.scenario === 'incomplete') delete formsdata[FORM['Data de Nascimento']]
  // Payment data as CRMs hold it (index % 3): the CPF as PIX key, the e-mail as PIX key, or only a bank name (unusable).
  if (p.index % 3 === 0) formsdata[FORM.PIX] = p.cpf
  if (p.index % 3 === 1) formsdata[FORM.PIX] = p.email
  if (p.index % 3 === 2) Object.assign(formsdata, { [FORM.Banco]: 'NUBANK', [FORM.Agencia]: 'null', [FORM.Conta]: 'null' })
  // The RG for even indexes; odd ones have none in the CRM (the caller must send it).
  if (p.index % 2 === 0) formsdata[FORM.Documento] = String(10_000_000 + (Number(p.cpf.slice(0, 8)) % 89_999_999))
  const created = Date.parse(p.createdAt) - (clone ? 90 * 86_400_000 : 0)
  return {
    ...UNWORKED,
    followers: [],
    contacts: [],
    files: [],
    products: [],
    id: (clone ? p.cloneId : p.opportunityId) ?? 0,
    title: clone ? `Cliente ${p.cpf}` : titleOf(p),
    description: clone ? `${p.cpf}` : 'Lead CLT',
    fkPipeline: p.pipelineId,
    fkStage: clone ? 4 : INITIAL_STAGE,
    mainphone: mainphoneOf(p),
    mainmail: mainmailOf(p),
    /** Open (1 won, 2 lost): listings return only these. */
    status: 0,
    stagebegintime: Math.floor(created / 1000),
    tags: tagsOf(p),
    createdAt: new Date(created).toISOString(),
    formsdata,
  }
}
