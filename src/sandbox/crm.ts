/**
 * The sandbox population's Kentro opportunities, shaped like the public samples (kentro.md §3–5): no gender key,
 * titles that are sometimes a CPF or "Cliente <cpf>", the CPF in mainmail in several spellings (or only in the
 * form's CPF field), tags as int[] / "2,6" / ["6"], missing or "null" e-mails, padded values, birth dates with
 * "NN anos". Every variant is chosen by the person's index, so a test knows which one it gets.
 */
import { INITIAL_STAGE, type Person } from './population.js'

/** formsdata keys of the lunasdigital export (the only public form mapping). There is no gender key. */
export const FORM_KEYS = {
  cpf: '98011220',
  email: '9e7f92b0',
  birthDate: '0bfc6250',
  mother: '917456f0',
  mobile: '98167d80',
  cep: '1836e090',
  street: '1dbfcef0',
  number: '6ac31450',
  district: '3271f710',
  city: '25178280',
  state: 'f6384400',
  provider: '80b68ec0',
  table: 'f0a67ce0',
  /** "Documento" (the RG), "PIX", and the bank account fields by the CRM's own labels. */
  document: '6a93f650',
  pix: '66f9ee40',
  bank: 'cd34f870',
  branch: '7f6a0eb0',
  account: '769db520',
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

export function opportunityOf (p: Person, clone = false): Opportunity {
  const [y, m, d] = p.data_nascimento.split('-')
  const age = 2025 - Number(y)
  const birth = [`${d}/${m}/${y}`, `${d}/${m}/${y}    ${age} anos`, `${d}/${m}/${y} `][p.index % 3]!
  const formsdata: Record<string, unknown> = {
    [FORM_KEYS.birthDate]: birth,
    [FORM_KEYS.mother]: `${p.mae}  `,
    [FORM_KEYS.mobile]: ['0', 'null', p.telefone][p.index % 3],
    [FORM_KEYS.cep]: p.index % 2 ? `${p.cep}  ` : p.cep,
    [FORM_KEYS.street]: p.rua,
    [FORM_KEYS.number]: p.index % 7 === 3 ? null : p.numero,
    [FORM_KEYS.district]: p.bairro,
    [FORM_KEYS.city]: p.cidade,
    [FORM_KEYS.state]: p.index % 2 ? ` ${p.uf}` : p.uf,
    [FORM_KEYS.provider]: 'cartos',
  }
  // index % 4: the e-mail, none, the literal "null", the e-mail. V8 knows it when the CRM does not.
  if (p.index % 4 === 0 || p.index % 4 === 3) formsdata[FORM_KEYS.email] = p.email
  if (p.index % 4 === 2) formsdata[FORM_KEYS.email] = 'null'
  if (p.index % 5 === 3 || p.index % 5 === 0) formsdata[FORM_KEYS.cpf] = p.cpf
  if (p.scenario === 'incomplete') delete formsdata[FORM_KEYS.birthDate]
  // Payment data as CRMs hold it (index % 3): the CPF as PIX key, the e-mail as PIX key, or only a bank name (unusable).
  if (p.index % 3 === 0) formsdata[FORM_KEYS.pix] = p.cpf
  if (p.index % 3 === 1) formsdata[FORM_KEYS.pix] = p.email
  if (p.index % 3 === 2) Object.assign(formsdata, { [FORM_KEYS.bank]: 'NUBANK', [FORM_KEYS.branch]: 'null', [FORM_KEYS.account]: 'null' })
  // The RG for even indexes; odd ones have none in the CRM (the caller must send it).
  if (p.index % 2 === 0) formsdata[FORM_KEYS.document] = String(10_000_000 + (Number(p.cpf.slice(0, 8)) % 89_999_999))
  const created = Date.parse(p.createdAt) - (clone ? 90 * 86_400_000 : 0)
  return {
    id: (clone ? p.cloneId : p.opportunityId) ?? 0,
    clientid: '',
    title: clone ? `Cliente ${p.cpf}` : titleOf(p),
    value: 0,
    recurrentvalue: 0,
    closevalue: 0,
    closerecurrentvalue: 0,
    order: 0,
    origin: 0,
    stagnated: false,
    formattedlocation: '',
    city: '',
    state: '',
    country: '',
    countrycode: '',
    postalcode: '',
    address1: '',
    address2: '',
    lat: null,
    lon: null,
    probability: 0,
    description: clone ? `${p.cpf}` : 'Lead CLT',
    fkPipeline: p.pipelineId,
    fkStage: clone ? 4 : INITIAL_STAGE,
    mainphone: mainphoneOf(p),
    mainmail: mainmailOf(p),
    expectedclosedate: null,
    status: 0,
    stagebegintime: Math.floor(created / 1000),
    closedat: 0,
    responsableid: 0,
    createdby: 0,
    closedby: 0,
    followers: [],
    contacts: [],
    files: [],
    filesCount: 0,
    contactsCount: 0,
    tasksCount: 0,
    tags: tagsOf(p),
    fk_campaign: 0,
    products: [],
    username: '',
    createdAt: new Date(created).toISOString(),
    formsdata,
  }
}
