/** PresençaBank under /presenca: login, INSS term (signed automatically after consultDelayMs), vínculos and margem, capped per token per minute. */
import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { SANDBOX_PASSWORD } from './auth.js'
import { personByCpf, strangerMargin } from './population.js'
import { hash32 } from './random.js'
import type { SandboxState } from './state.js'

const BASE = '/presenca'
const VINCULOS = `${BASE}/v3/operacoes/consignado-privado/consultar-vinculos`
const MARGEM = `${BASE}/v3/operacoes/consignado-privado/consultar-margem`
export const PRESENCA_TOKEN_TTL_MS = 3_600_000

function bodyOf (request: FastifyRequest): Record<string, unknown> {
  return (request.body ?? {}) as Record<string, unknown>
}

function missing (body: Record<string, unknown>, fields: string[]): boolean {
  return fields.some((f) => body[f] === undefined || body[f] === null || body[f] === '')
}

function cpfOf (body: Record<string, unknown>): string {
  return String(body['cpf'] ?? '').replace(/\D/g, '')
}

/** The employer link the sandbox reports for a CPF: one per person, deterministic. */
function vinculoOf (state: SandboxState, cpf: string): { matricula: string; numeroInscricaoEmpregador: string; elegivel: boolean; margin: number } {
  const person = personByCpf(state.config.seed, cpf)
  const h = hash32('vinculo', state.config.seed, cpf)
  return {
    matricula: String(100_000 + (h % 900_000)),
    numeroInscricaoEmpregador: String(10_000_000_000_000 + (h % 89_999_999_999_999)).slice(0, 14),
    elegivel: person?.scenario !== 'rejected',
    margin: Number(person ? person.margin : strangerMargin(state.config.seed, cpf)),
  }
}

export function presencaRoutes (app: FastifyInstance, state: SandboxState): void {
  /** Bearer check and the per-token requests/minute cap; answers and returns false when the call may not proceed. */
  const admit = (request: FastifyRequest, reply: FastifyReply): boolean => {
    state.stats.presenca_calls++
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? ''
    const entry = state.presencaTokens.get(token)
    const now = state.now()
    if (!entry || entry.expiresAt <= now) {
      void reply.code(401).send({ message: 'Token inválido ou expirado' })
      return false
    }
    const minute = Math.floor(now / 60_000)
    const window = state.presencaWindows.get(token)
    const count = window && window.minute === minute ? window.count + 1 : 1
    state.presencaWindows.set(token, { minute, count })
    if (count > state.config.presencaRpm) {
      void reply.code(429).header('retry-after', String(Math.ceil(((minute + 1) * 60_000 - now) / 1000))).send({ message: 'Limite de requisições excedido' })
      return false
    }
    return true
  }

  /** The CPF's term once signed, or null after answering TERMO_INVALIDO_OU_AUSENTE. */
  const signedTerm = (cpf: string, reply: FastifyReply): boolean => {
    const term = state.presencaTerms.get(cpf)
    if (term && term.signedAt <= state.now()) return true
    void reply.code(400).send({ code: 'TERMO_INVALIDO_OU_AUSENTE', message: 'Termo de autorização inválido ou ausente' })
    return false
  }

  /** POST /presenca/login */
  app.post(`${BASE}/login`, async (request, reply) => {
    state.stats.presenca_calls++
    const body = bodyOf(request)
    if (missing(body, ['login', 'senha'])) return reply.code(400).send({ message: 'login e senha são obrigatórios' })
    if (body['senha'] !== SANDBOX_PASSWORD) return reply.code(401).send({ message: 'Login ou senha inválidos' })
    const token = randomBytes(24).toString('base64url')
    const expiresAt = state.now() + PRESENCA_TOKEN_TTL_MS
    state.presencaTokens.set(token, { login: String(body['login']), expiresAt })
    return { token, expireAt: new Date(expiresAt).toISOString() }
  })

  /** POST /presenca/consultas/termo-inss */
  app.post(`${BASE}/consultas/termo-inss`, async (request, reply) => {
    if (!admit(request, reply)) return reply
    const body = bodyOf(request)
    if (missing(body, ['cpf', 'nome', 'telefone', 'produtoId'])) return reply.code(400).send({ message: 'Dados obrigatórios ausentes: cpf, nome, telefone, produtoId' })
    const cpf = cpfOf(body)
    const now = state.now()
    let term = state.presencaTerms.get(cpf)
    if (!term) {
      term = { autorizacaoId: randomUUID(), createdAt: now, signedAt: now + state.config.consultDelayMs }
      state.presencaTerms.set(cpf, term)
    }
    return { autorizacaoId: term.autorizacaoId, shortUrl: `https://sandbox.local/t/${term.autorizacaoId.slice(0, 8)}` }
  })

  /** POST /presenca/v3/operacoes/consignado-privado/consultar-vinculos */
  app.post(VINCULOS, async (request, reply) => {
    if (!admit(request, reply)) return reply
    const body = bodyOf(request)
    if (missing(body, ['cpf'])) return reply.code(400).send({ message: 'Dados obrigatórios ausentes: cpf' })
    const cpf = cpfOf(body)
    if (!signedTerm(cpf, reply)) return reply
    const { margin: _margin, ...vinculo } = vinculoOf(state, cpf)
    return { id: [vinculo] }
  })

  /** POST /presenca/v3/operacoes/consignado-privado/consultar-margem */
  app.post(MARGEM, async (request, reply) => {
    if (!admit(request, reply)) return reply
    const body = bodyOf(request)
    if (missing(body, ['cpf', 'matricula', 'cnpj'])) return reply.code(400).send({ message: 'Dados obrigatórios ausentes: cpf, matricula, cnpj' })
    const cpf = cpfOf(body)
    if (!signedTerm(cpf, reply)) return reply
    const v = vinculoOf(state, cpf)
    if (String(body['matricula']) !== v.matricula || String(body['cnpj']).replace(/\D/g, '') !== v.numeroInscricaoEmpregador) {
      return reply.code(404).send({ message: 'Vínculo não encontrado' })
    }
    const base = Math.round(v.margin * 1.25 * 100) / 100
    return {
      cpf,
      matricula: v.matricula,
      cnpj: v.numeroInscricaoEmpregador,
      valorMargemDisponivel: v.margin,
      valorMargemBase: base,
      valorMargemUtilizada: Math.round((base - v.margin) * 100) / 100,
      elegivel: v.elegivel,
    }
  })
}
