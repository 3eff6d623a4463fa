/**
 * The borrower V8 needs for an operation, field by field from the request, the CRM (Kentro formsdata, kentro.md §4)
 * and the CPF's validated flow data; the tenant's declared nationality last. Nothing is invented: a field no source
 * has is listed in `campos`, and every value sent records its source (`origem`).
 */
import { FORM_KEYS, formValue, type Opportunity } from '../../upstream/kentro.js'
import type { BankData, OperationBorrower, PixKeyType } from '../../upstream/v8-operations.js'
import { checkEmail, checkName, checkPhone } from '../borrower.js'
import { isValidCpf, normalizeCpf } from '../cpf.js'
import { normalizeMobile } from '../phone.js'
import type { FlowResult, Origem } from '../flow/types.js'

/** CRM form keys a proposal reads besides the flow's (labels from the lunasdigital export; kentro.md §4). */
export const PROPOSAL_FORM_KEYS = {
  /** "Documento": the RG per the callers that fill it. */
  document: '6a93f650',
  /** "Banco": often junk (PIX keys typed in it); only a 3-digit bank code is used. */
  bank: 'cd34f870',
  /** "Agencia" and "Conta" by the CRM's own labels (one caller swapped them; the labels win). */
  branch: '7f6a0eb0',
  account: '769db520',
  pix: '66f9ee40',
} as const

/** What the caller may send (POST /clt/proposta), Portuguese as the tenant API names it. */
export interface ProposalInput {
  nome_mae?: string | null | undefined
  estado_civil?: string | null | undefined
  nacionalidade?: string | null | undefined
  pep?: boolean | null | undefined
  email?: string | null | undefined
  telefone?: string | null | undefined
  documento?: { tipo?: string | null | undefined; numero?: string | null | undefined; orgao_emissor?: string | null | undefined; data_emissao?: string | null | undefined } | null | undefined
  endereco?: {
    cep?: string | null | undefined
    logradouro?: string | null | undefined
    numero?: string | null | undefined
    complemento?: string | null | undefined
    bairro?: string | null | undefined
    cidade?: string | null | undefined
    uf?: string | null | undefined
  } | null | undefined
  pix?: { chave?: string | null | undefined; tipo?: string | null | undefined } | null | undefined
  conta?: { banco?: string | null | undefined; agencia?: string | null | undefined; conta?: string | null | undefined; digito?: string | null | undefined } | null | undefined
}

/** A TED account before V8's bank id is looked up. */
export type PendingBank = Exclude<BankData, { transfer_method: 'ted' }> | { transfer_method: 'ted'; bank_code: string; branch_number: string; account_number: string; account_digit: string }

export type ProposalBorrower = Omit<OperationBorrower, 'bank'> & { bank: PendingBank }

export type BorrowerResolution =
  | { ok: true; borrower: ProposalBorrower; origem: Record<string, Origem> }
  | { ok: false; campos: string[]; motivos: Record<string, string> }

const UFS = new Set('AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO'.split(' '))
const MARITAL: Record<string, OperationBorrower['marital_status']> = {
  solteiro: 'single',
  solteira: 'single',
  single: 'single',
  casado: 'married',
  casada: 'married',
  married: 'married',
  'uniao estavel': 'married',
  divorciado: 'divorced',
  divorciada: 'divorced',
  separado: 'divorced',
  separada: 'divorced',
  divorced: 'divorced',
  viuvo: 'widowed',
  viuva: 'widowed',
  widowed: 'widowed',
}
const BRAZILIAN = new Set(['brasileiro', 'brasileira', 'brasil', 'br', 'bra', 'brazilian', 'brazil'])

type Check<T> = { ok: true; value: T } | { ok: false; motivo: string }
const plain = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim()
const text = (v: unknown): string => formValue(v).replace(/\s+/g, ' ')

/** One field from the first source with a usable value; a caller's bad value is an error, a CRM's falls through. */
function resolve<T> (sources: Array<[Origem, unknown]>, check: (raw: string) => Check<T>, absent: string): Check<T> & { origem?: Origem } {
  let problem: string | undefined
  for (const [origem, raw] of sources) {
    const v = text(raw)
    if (v === '') continue
    const r = check(v)
    if (r.ok) return { ...r, origem }
    if (origem === 'requisicao') return { ok: false, motivo: `${r.motivo} (na requisição)` }
    problem ??= r.motivo
  }
  return { ok: false, motivo: problem ?? absent }
}

const nonEmpty = (max: number, what: string) => (v: string): Check<string> => (v.length <= max ? { ok: true, value: v } : { ok: false, motivo: `${what} longo demais` })

export function checkCep (v: string): Check<string> {
  const d = v.replace(/\D/g, '')
  return d.length === 8 ? { ok: true, value: d } : { ok: false, motivo: 'CEP deve ter 8 dígitos' }
}

export function checkUf (v: string): Check<string> {
  const uf = v.replace(/[^a-z]/gi, '').toUpperCase()
  return UFS.has(uf) ? { ok: true, value: uf } : { ok: false, motivo: 'UF inválida (use a sigla, ex.: SP)' }
}

function checkDocNumber (cpf: string) {
  return (v: string): Check<string> => {
    const d = v.replace(/[^0-9a-z]/gi, '').toUpperCase()
    if (d.length < 5 || d.length > 14) return { ok: false, motivo: 'número do documento inválido' }
    if (d === cpf) return { ok: false, motivo: 'o campo Documento do CRM tem o CPF, não o RG' }
    return { ok: true, value: d }
  }
}

function checkIssueDate (birthDate: string, now: number) {
  return (v: string): Check<string> => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v) ?? /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(v)
    const iso = m ? (m[1]!.length === 4 ? `${m[1]}-${m[2]}-${m[3]}` : `${m[3]}-${m[2]}-${m[1]}`) : ''
    const at = Date.parse(`${iso}T00:00:00Z`)
    if (!iso || Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== iso) return { ok: false, motivo: 'data de emissão inválida (use AAAA-MM-DD ou DD/MM/AAAA)' }
    if (at > now) return { ok: false, motivo: 'data de emissão no futuro' }
    if (iso < birthDate) return { ok: false, motivo: 'data de emissão antes do nascimento' }
    return { ok: true, value: iso }
  }
}

function checkMarital (v: string): Check<OperationBorrower['marital_status']> {
  const m = MARITAL[plain(v).replace(/\(a\)$/, '').replace(/[^a-z ]/g, '').trim()]
  return m ? { ok: true, value: m } : { ok: false, motivo: 'estado civil deve ser solteiro, casado, divorciado ou viuvo' }
}

/** V8's nationality value: `brazilian` (two of the three spellings callers send; the third, BR, is accepted as Brazilian). */
function checkNationality (v: string): Check<string> {
  const p = plain(v)
  if (BRAZILIAN.has(p)) return { ok: true, value: 'brazilian' }
  return /^[a-z ]{2,40}$/.test(p) ? { ok: true, value: p } : { ok: false, motivo: 'nacionalidade inválida' }
}

/** The PIX key type by its form, with the borrower's own CPF and phone deciding the 11-digit ambiguity. */
export function pixKey (raw: string, own: { cpf: string; phone: string }, declared?: string): Check<{ pix_key: string; pix_key_type: PixKeyType }> {
  const v = raw.trim()
  const wanted = declared ? plain(declared).replace('aleatoria', 'random').replace('chave ', '').replace('telefone', 'phone').replace('celular', 'phone') : undefined
  const digits = v.replace(/\D/g, '')
  const asCpf = /^[\d.\-\s]+$/.test(v) && isValidCpf(normalizeCpf(v)) ? normalizeCpf(v) : null
  const phone = normalizeMobile(v)
  const asPhone = phone.ok ? `+55${phone.mobile.full}` : null
  const asEmail = /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? v.toLowerCase() : null
  const asRandom = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v) ? v.toLowerCase() : null
  const options: Array<[PixKeyType, string | null]> = [['cpf', asCpf], ['email', asEmail], ['phone', asPhone], ['random', asRandom]]
  if (wanted) {
    const hit = options.find(([t]) => t === wanted)
    if (!hit) return { ok: false, motivo: 'tipo de chave PIX deve ser cpf, email, phone (telefone) ou random (aleatória)' }
    return hit[1] ? { ok: true, value: { pix_key: hit[1], pix_key_type: hit[0] } } : { ok: false, motivo: `a chave PIX não é um ${wanted} válido` }
  }
  if (asCpf && digits === own.cpf) return { ok: true, value: { pix_key: asCpf, pix_key_type: 'cpf' } }
  if (asPhone && phone.ok && phone.mobile.full === own.phone) return { ok: true, value: { pix_key: asPhone, pix_key_type: 'phone' } }
  const first = options.find(([, value]) => value !== null)
  return first ? { ok: true, value: { pix_key: first[1]!, pix_key_type: first[0] } } : { ok: false, motivo: 'chave PIX não reconhecida (CPF, e-mail, celular ou chave aleatória)' }
}

/** An account "12345-6" → number + digit; without a separate digit the split is unknown (never guessed). */
function splitAccount (account: string, digit: string | undefined): { number: string; digit: string } | null {
  if (digit && /^[0-9xX]$/.test(digit.trim())) return /^\d{1,13}$/.test(account.replace(/\D/g, '')) ? { number: account.replace(/\D/g, ''), digit: digit.trim().toUpperCase() } : null
  const m = /^(\d{1,13})\s*-\s*([0-9xX])$/.exec(account.trim())
  return m ? { number: m[1]!, digit: m[2]!.toUpperCase() } : null
}

function tedAccount (c: { banco?: string | null | undefined; agencia?: string | null | undefined; conta?: string | null | undefined; digito?: string | null | undefined }): Check<PendingBank> {
  const code = /^\s*(\d{3})\b/.exec(text(c.banco))?.[1]
  const branch = text(c.agencia).replace(/-\d$/, '').replace(/\D/g, '')
  const account = splitAccount(text(c.conta), text(c.digito) || undefined)
  if (!code) return { ok: false, motivo: 'código do banco (3 dígitos) ausente ou inválido' }
  if (branch.length < 1 || branch.length > 5) return { ok: false, motivo: 'agência inválida' }
  if (!account) return { ok: false, motivo: 'conta inválida (informe a conta e o dígito)' }
  return { ok: true, value: { transfer_method: 'ted', bank_code: code, branch_number: branch, account_number: account.number, account_digit: account.digit } }
}

/** Where the payment goes: the request's PIX or account, else the CRM's PIX, else a CRM account that is unambiguous. */
function resolveBank (input: ProposalInput, f: Record<string, unknown>, own: { cpf: string; phone: string }): Check<PendingBank> & { origem?: Origem } {
  if (input.pix && text(input.pix.chave)) {
    const r = pixKey(text(input.pix.chave), own, text(input.pix.tipo) || undefined)
    return r.ok ? { ok: true, value: { transfer_method: 'pix', ...r.value }, origem: 'requisicao' } : { ok: false, motivo: `${r.motivo} (na requisição)` }
  }
  if (input.conta && (text(input.conta.conta) || text(input.conta.banco))) {
    const r = tedAccount(input.conta)
    return r.ok ? { ...r, origem: 'requisicao' } : { ok: false, motivo: `${r.motivo} (na requisição)` }
  }
  const crmPix = text(f[PROPOSAL_FORM_KEYS.pix])
  if (crmPix) {
    const r = pixKey(crmPix, own)
    if (r.ok) return { ok: true, value: { transfer_method: 'pix', ...r.value }, origem: 'kentro' }
  }
  const crmTed = tedAccount({ banco: text(f[PROPOSAL_FORM_KEYS.bank]), agencia: text(f[PROPOSAL_FORM_KEYS.branch]), conta: text(f[PROPOSAL_FORM_KEYS.account]) })
  if (crmTed.ok) return { ...crmTed, origem: 'kentro' }
  return { ok: false, motivo: 'informe pix {chave} ou conta {banco, agencia, conta, digito}' }
}

export interface ResolveInput {
  cpf: string
  input: ProposalInput
  /** The CPF's flow data (name, e-mail, phone, birth date, gender, already validated, with their sources). */
  flow: NonNullable<FlowResult['dados_validados']>
  opp: Opportunity | null
  defaultNationality: string
  workData?: OperationBorrower['work_data'] | undefined
  now: number
}

/** Resolve every field; all problems are reported at once. */
export function resolveProposalBorrower (r: ResolveInput): BorrowerResolution {
  const f = r.opp?.formsdata ?? {}
  const o = r.opp as (Opportunity & Record<string, unknown>) | null
  const req = r.input
  const flowOrigem = (field: string): Origem => r.flow.origem?.[field] ?? 'kentro'
  const campos: string[] = []
  const motivos: Record<string, string> = {}
  const origem: Record<string, Origem> = {}
  const take = <T>(field: string, c: Check<T> & { origem?: Origem }): T | undefined => {
    if (c.ok) {
      if (c.origem) origem[field] = c.origem
      return c.value
    }
    campos.push(field)
    motivos[field] = c.motivo
    return undefined
  }
  const ok = <T>(value: T, from: Origem): Check<T> & { origem: Origem } => ({ ok: true, value, origem: from })
  const fromFlow = <T>(field: string, v: T | undefined): Check<T> & { origem?: Origem } => (v === undefined || v === '' ? { ok: false, motivo: `${field} ausente no resultado do fluxo` } : ok(v, flowOrigem(field)))

  const name = take('nome', fromFlow('nome', r.flow.nome))
  const birth = take('data_nascimento', fromFlow('data_nascimento', r.flow.data_nascimento))
  const gender = take('sexo', fromFlow('sexo', r.flow.sexo))
  const email = take('email', text(req.email) ? resolve([['requisicao', req.email]], checkEmail, '') : fromFlow('email', r.flow.email))
  const phone = take('telefone', text(req.telefone)
    ? resolve([['requisicao', req.telefone]], (v) => checkPhone(v), '')
    : (() => {
        const p = checkPhone(r.flow.telefone)
        return p.ok ? ok(p.value, flowOrigem('telefone')) : { ok: false as const, motivo: 'telefone ausente no resultado do fluxo' }
      })())
  const mother = take('nome_mae', resolve([['requisicao', req.nome_mae], ['kentro', f[FORM_KEYS.mother]]], checkName, 'nome da mãe ausente'))
  const e = req.endereco ?? {}
  const cep = take('endereco.cep', resolve([['requisicao', e.cep], ['kentro', f[FORM_KEYS.cep]], ['kentro', o?.['postalcode']]], checkCep, 'CEP ausente'))
  const street = take('endereco.logradouro', resolve([['requisicao', e.logradouro], ['kentro', f[FORM_KEYS.street]], ['kentro', o?.['address1']]], nonEmpty(120, 'logradouro'), 'logradouro ausente'))
  const number = take('endereco.numero', resolve([['requisicao', e.numero], ['kentro', f[FORM_KEYS.number]], ['kentro', o?.['address2']]], nonEmpty(20, 'número'), 'número do endereço ausente (envie "S/N" se não houver)'))
  const district = take('endereco.bairro', resolve([['requisicao', e.bairro], ['kentro', f[FORM_KEYS.district]]], nonEmpty(80, 'bairro'), 'bairro ausente'))
  const city = take('endereco.cidade', resolve([['requisicao', e.cidade], ['kentro', f[FORM_KEYS.city]], ['kentro', o?.['city']]], nonEmpty(80, 'cidade'), 'cidade ausente'))
  const uf = take('endereco.uf', resolve([['requisicao', e.uf], ['kentro', f[FORM_KEYS.state]], ['kentro', o?.['state']]], checkUf, 'UF ausente'))
  const complement = text(e.complemento)
  if (complement) origem['endereco.complemento'] = 'requisicao'
  const d = req.documento ?? {}
  const docNumber = take('documento.numero', resolve([['requisicao', d.numero], ['kentro', f[PROPOSAL_FORM_KEYS.document]]], checkDocNumber(r.cpf), 'número do RG ou CNH ausente'))
  const docType = take('documento.tipo', text(d.tipo)
    ? resolve([['requisicao', d.tipo]], (v) => (['rg', 'cnh'].includes(plain(v)) ? { ok: true, value: plain(v) as 'rg' | 'cnh' } : { ok: false, motivo: 'tipo do documento deve ser rg ou cnh' }), '')
    : origem['documento.numero'] === 'kentro' ? ok('rg' as const, 'kentro') : { ok: false, motivo: 'tipo do documento (rg ou cnh) ausente' })
  const issuer = take('documento.orgao_emissor', resolve([['requisicao', d.orgao_emissor]], (v) => (/^[a-z]{2,10}(\s*[-/]?\s*[a-z]{2})?$/i.test(v) ? { ok: true, value: v.toUpperCase() } : { ok: false, motivo: 'órgão emissor inválido (ex.: SSP)' }), 'órgão emissor ausente (ex.: SSP)'))
  const issued = take('documento.data_emissao', birth ? resolve([['requisicao', d.data_emissao]], checkIssueDate(birth, r.now), 'data de emissão do documento ausente') : { ok: false, motivo: 'sem data de nascimento' })
  const marital = take('estado_civil', resolve([['requisicao', req.estado_civil]], checkMarital, 'estado civil ausente'))
  const nationality = take('nacionalidade', resolve([['requisicao', req.nacionalidade], ['padrao_tenant', r.defaultNationality]], checkNationality, 'nacionalidade ausente'))
  const pep = take('pep', typeof req.pep === 'boolean' ? ok(req.pep, 'requisicao') : { ok: false, motivo: 'informe pep: true ou false (pessoa politicamente exposta)' })
  const bank = take('dados_bancarios', resolveBank(req, f, { cpf: r.cpf, phone: phone?.full ?? '' }))
  if (r.workData) origem['work_data'] = 'v8'

  if (campos.length > 0) return { ok: false, campos, motivos }
  return {
    ok: true,
    origem: { cpf: 'requisicao', ...origem },
    borrower: {
      name: name!,
      email: email!,
      phone: { country_code: '55', area_code: phone!.areaCode, number: phone!.number },
      political_exposition: pep!,
      address: { street: street!, number: number!, complement, neighborhood: district!, city: city!, state: uf!, postal_code: cep! },
      birth_date: birth!,
      mother_name: mother!,
      nationality: nationality!,
      document_issuer: issuer!,
      gender: gender === 'M' ? 'male' : 'female',
      person_type: 'natural',
      marital_status: marital!,
      individual_document_number: r.cpf,
      document_identification_date: issued!,
      document_identification_type: docType!,
      document_identification_number: docNumber!,
      bank: bank!,
      ...(r.workData ? { work_data: r.workData } : {}),
    },
  }
}
