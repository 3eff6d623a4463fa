/**
 * PresençaBank under /presenca, with the shapes public callers saw: login (wrong password → HTTP 500 with no body,
 * expireAt optional), term creation (a phone belongs to one client), signing by PUT with device information (or by
 * the client through the link), links and margin (object or array form) only with a signed term, per-login cap.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { SANDBOX_PASSWORD } from './auth.js'
import { isValidCpf } from './cpf.js'
import { presencaProfile, type PresencaProfile, type SandboxLink } from './presenca-people.js'
import { hash32 } from './random.js'
import type { PresencaTerm, SandboxState } from './state.js'

export const PRESENCA_BASE = '/presenca'
const VINCULOS = `${PRESENCA_BASE}/v3/operacoes/consignado-privado/consultar-vinculos`
const MARGEM = `${PRESENCA_BASE}/v3/operacoes/consignado-privado/consultar-margem`
const TERMO = `${PRESENCA_BASE}/consultas/termo-inss`
const UNSIGNED_TEXT = 'Não foi possível retornar a consulta, é necessario uma autorização válida'
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

type Body = Record<string, unknown>

function bodyOf (request: FastifyRequest): Body {
  const b = request.body
  return b && typeof b === 'object' && !Array.isArray(b) ? (b as Body) : {}
}

const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '')

/** ASP.NET validation answer (ProblemDetails): what a malformed request gets. */
function problem (reply: FastifyReply, errors: Record<string, string[]>): FastifyReply {
  return reply.code(400).send({
    type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
    title: 'One or more validation errors occurred.',
    status: 400,
    errors,
    traceId: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`,
  })
}

/** A property read case-insensitively (the API binds JSON names that way). */
function prop (o: unknown, name: string): unknown {
  if (!o || typeof o !== 'object') return undefined
  const key = Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase())
  return key === undefined ? undefined : (o as Body)[key]
}

/** What the device information of a signing call lacks (every value a string, GeoLocation an object). */
function deviceProblems (b: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  if (!b || typeof b !== 'object' || Object.keys(b).length === 0) return { '': ['A non-empty request body is required.'] }
  for (const f of ['userAgent', 'OperationalSystem', 'DeviceModel', 'DeviceName', 'DeviceType']) {
    if (typeof prop(b, f) !== 'string') out[f] = [`The ${f} field is required.`]
  }
  const geo = prop(b, 'GeoLocation')
  if (!geo || typeof geo !== 'object') out['GeoLocation'] = ['The GeoLocation field is required.']
  else for (const f of ['Latitude', 'Longitude']) if (typeof prop(geo, f) !== 'string') out[`GeoLocation.${f}`] = [`The ${f} field must be a string.`]
  return out
}

function marginBody (l: SandboxLink, p: PresencaProfile, array: boolean): unknown {
  if (array) {
    return [{
      numeroInscricaoEmpregador: l.numeroInscricaoEmpregador,
      valorMargem: l.margin,
      matricula: l.matricula,
      dataAdmissao: l.admission,
      dataNascimento: p.birthDate,
      valorMargemAvaliavel: l.margin,
      valorBaseMargem: l.base,
      valorTotalVencimentos: l.totalDue,
      nomeMae: p.mother,
      sexo: p.sex,
    }]
  }
  return {
    valorMargemDisponivel: l.margin,
    valorMargemBase: l.base,
    valorTotalDevido: l.totalDue,
    registroEmpregaticio: l.matricula,
    cnpjEmpregador: l.numeroInscricaoEmpregador,
    dataAdmissao: l.admission,
    dataNascimento: p.birthDate,
    nomeMae: p.mother,
    sexo: p.sex,
  }
}

export function presencaRoutes (app: FastifyInstance, state: SandboxState): void {
  /** Bearer check and the per-login requests/minute cap; answers and returns false when the call may not proceed. */
  const admit = (request: FastifyRequest, reply: FastifyReply): boolean => {
    state.stats.presenca_calls++
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? ''
    const entry = state.presencaTokens.get(token)
    const now = state.now()
    if (!entry || entry.expiresAt <= now) {
      // ASP.NET's JWT handler: 401 with an empty body.
      void reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send('')
      return false
    }
    const minute = Math.floor(now / 60_000)
    const window = state.presencaWindows.get(entry.login)
    const count = window && window.minute === minute ? window.count + 1 : 1
    state.presencaWindows.set(entry.login, { minute, count })
    if (count > state.config.presencaRpm) {
      state.stats.presenca_rate_limited++
      void reply.code(429).header('retry-after', String(Math.ceil(((minute + 1) * 60_000 - now) / 1000))).send('')
      return false
    }
    return true
  }

  /** True when the CPF has a term signed long enough ago; otherwise answers the configured refusal. */
  const authorized = (cpf: string, reply: FastifyReply): boolean => {
    const now = state.now()
    for (const term of state.presencaTerms.values()) {
      if (term.cpf === cpf && term.signedAt !== null && term.signedAt + state.config.presencaSignDelayMs <= now) return true
    }
    const mode = state.config.presencaUnsigned
    if (mode === '403') void reply.code(403).send('')
    else if (mode === 'codes') void reply.code(400).send({ errors: [UNSIGNED_TEXT], errorCodes: ['TERMO_INVALIDO_OU_AUSENTE'] })
    else void reply.code(400).send({ message: UNSIGNED_TEXT })
    return false
  }

  const sign = (term: PresencaTerm): void => {
    if (term.signedAt !== null) return
    term.signedAt = state.now()
    state.stats.presenca_terms_signed++
  }

  /** POST /presenca/login */
  app.post(`${PRESENCA_BASE}/login`, async (request, reply) => {
    state.stats.presenca_calls++
    const body = bodyOf(request)
    const login = str(body['login'])
    if (!login || typeof body['senha'] !== 'string') return problem(reply, { ...(login ? {} : { Login: ['The Login field is required.'] }), ...(typeof body['senha'] === 'string' ? {} : { Senha: ['The Senha field is required.'] }) })
    if (body['senha'] !== SANDBOX_PASSWORD) {
      // What callers report for a wrong password: HTTP 500, not 401.
      state.stats.presenca_login_failures++
      return reply.code(500).type('text/plain').send('')
    }
    const token = randomBytes(24).toString('base64url')
    const expiresAt = state.now() + state.config.presencaTokenTtlSeconds * 1000
    state.presencaTokens.set(token, { login, expiresAt })
    state.stats.presenca_logins++
    const iso = new Date(expiresAt).toISOString()
    const mode = state.config.presencaExpireAt
    return { token, ...(mode === 'iso' ? { expireAt: iso } : mode === 'naive' ? { expireAt: iso.slice(0, 19) } : {}), usuario: {} }
  })

  /** POST /presenca/consultas/termo-inss */
  app.post(TERMO, async (request, reply) => {
    if (!admit(request, reply)) return reply
    const body = bodyOf(request)
    const cpf = str(body['cpf']).replace(/\D/g, '')
    const nome = str(body['nome'])
    const telefone = str(body['telefone']).replace(/\D/g, '')
    const missing: Record<string, string[]> = {}
    if (!cpf) missing['Cpf'] = ['The Cpf field is required.']
    if (!nome) missing['Nome'] = ['The Nome field is required.']
    if (!telefone) missing['Telefone'] = ['The Telefone field is required.']
    if (body['produtoId'] === undefined || body['produtoId'] === null) missing['ProdutoId'] = ['The ProdutoId field is required.']
    if (Object.keys(missing).length > 0) return problem(reply, missing)
    if (!isValidCpf(cpf)) return reply.code(400).send({ errors: ['CPF inválido.'] })
    if (!/^[1-9]{2}9\d{8}$/.test(telefone)) return reply.code(400).send({ errors: ['Telefone inválido: informe DDD e celular (11 dígitos).'] })
    if (Number(body['produtoId']) !== 28) return reply.code(400).send({ errors: ['Produto não encontrado.'] })
    const owner = state.presencaPhones.get(telefone)
    if (owner !== undefined && owner !== cpf) return reply.code(400).send({ errors: ['Telefone já utilizado em termo para outro cliente.'] })
    state.presencaPhones.set(telefone, cpf)
    const term: PresencaTerm = { autorizacaoId: randomUUID(), cpf, telefone, createdAt: state.now(), signedAt: null }
    state.presencaTerms.set(term.autorizacaoId, term)
    state.stats.presenca_terms_created++
    state.count('presenca_terms_by_cpf', cpf)
    const code = hash32('short', term.autorizacaoId).toString(36)
    return { autorizacaoId: term.autorizacaoId, shortUrl: `https://sign.presen.ca/${code}` }
  })

  /** PUT /presenca/consultas/termo-inss/:id — what the signing page sends when the client ticks "autorizo". */
  app.put(`${TERMO}/:id`, async (request, reply) => {
    if (!admit(request, reply)) return reply
    const { id } = request.params as { id: string }
    if (!GUID.test(id)) return problem(reply, { termoId: [`The value '${id}' is not valid for termoId.`] })
    const problems = deviceProblems(request.body)
    if (Object.keys(problems).length > 0) return problem(reply, problems)
    const term = state.presencaTerms.get(id)
    if (!term) return reply.code(400).send({ errors: ['Autorização não encontrada.'] })
    if (!state.config.presencaSelfSign) return reply.code(403).send('')
    sign(term)
    if (state.config.presencaSignGlitch) return reply.code(500).send({ message: 'An error ocurred' })
    return reply.code(200).type('text/plain').send('')
  })

  /** POST /presenca/v3/operacoes/consignado-privado/consultar-vinculos */
  app.post(VINCULOS, async (request, reply) => {
    if (!admit(request, reply)) return reply
    const cpf = str(bodyOf(request)['cpf']).replace(/\D/g, '')
    if (!cpf) return problem(reply, { Cpf: ['The Cpf field is required.'] })
    if (!authorized(cpf, reply)) return reply
    const profile = presencaProfile(state.config.seed, cpf)
    if (profile.outcome === 'cpf_not_found') return reply.code(400).send({ errors: ['CPF não encontrado na base'] })
    return { id: profile.links.map((l) => ({ matricula: l.matricula, numeroInscricaoEmpregador: l.numeroInscricaoEmpregador, elegivel: l.elegivel, cpf })) }
  })

  /** POST /presenca/v3/operacoes/consignado-privado/consultar-margem */
  app.post(MARGEM, async (request, reply) => {
    if (!admit(request, reply)) return reply
    const body = bodyOf(request)
    const cpf = str(body['cpf']).replace(/\D/g, '')
    const matricula = str(body['matricula'])
    const cnpj = str(body['cnpj'])
    const missing: Record<string, string[]> = {}
    for (const [k, v] of [['Cpf', cpf], ['Matricula', matricula], ['Cnpj', cnpj]] as const) if (!v) missing[k] = [`The ${k} field is required.`]
    if (Object.keys(missing).length > 0) return problem(reply, missing)
    if (!authorized(cpf, reply)) return reply
    const profile = presencaProfile(state.config.seed, cpf)
    // Exactly as the link gave them: a padded matrícula or an 8-digit employer root must come back unchanged.
    const l = profile.links.find((x) => x.matricula === matricula && x.numeroInscricaoEmpregador === cnpj)
    if (!l) return reply.code(400).send({ errors: ['Vínculo não encontrado para o CPF informado.'] })
    const shape = state.config.presencaMarginShape
    const array = shape === 'array' || (shape === 'alternate' && hash32('shape', state.config.seed, cpf) % 2 === 1)
    return marginBody(l, profile, array)
  })
}

/** The client signing through the link (control plane): signs the CPF's newest term; false when it has none. */
export function signThroughLink (state: SandboxState, cpf: string): PresencaTerm | undefined {
  let newest: PresencaTerm | undefined
  for (const term of state.presencaTerms.values()) if (term.cpf === cpf && (!newest || term.createdAt >= newest.createdAt)) newest = term
  if (newest && newest.signedAt === null) {
    newest.signedAt = state.now()
    state.stats.presenca_terms_signed++
  }
  return newest
}
