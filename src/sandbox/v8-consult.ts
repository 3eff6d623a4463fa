/**
 * V8 BFF consults: create (`{id}` only), authorize (text "Successful response"), list (`{data, pages}`, newest first,
 * availableMarginValue) and detail (marginBaseValue, simulationLimit), and client-data/basic; scoped per V8 login,
 * advancing with time after authorize.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { bearerUser } from './auth.js'
import { isValidCpf } from './cpf.js'
import { personByCpf, REJECTION_REASON, strangerMargin } from './population.js'
import { hash32 } from './random.js'
import type { ConsultOutcome, SandboxState } from './state.js'
import { consultDetail, consultRow, consultStatus, listQuery, pageOf, readListQuery, v8Error, validationError } from './v8-common.js'

const BASE = '/private-consignment/consult'

const consultBody = z.object({
  borrowerDocumentNumber: z.string().regex(/^\d{11}$/, 'must be 11 digits').refine(isValidCpf, 'invalid CPF'),
  gender: z.enum(['male', 'female']),
  birthDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').refine((d) => !Number.isNaN(Date.parse(d)), 'invalid date'),
  signerName: z.string().trim().min(1),
  signerEmail: z.string().email(),
  signerPhone: z.object({
    phoneNumber: z.string().regex(/^9\d{8}$/, 'must be a 9-digit mobile starting with 9'),
    countryCode: z.literal('55'),
    areaCode: z.string().regex(/^[1-9]\d$/, 'must be 2 digits'),
  }),
  provider: z.enum(['QI', 'CELCOIN']),
})

/** GET /consult also filters by status. */
const consultListQuery = listQuery.extend({ status: z.string().optional() })

/** What the consult will end as: population people by scenario (a wrong birth date is refused); other CPFs succeed. */
function outcomeFor (state: SandboxState, cpf: string, birthDate: string): { outcome: ConsultOutcome; slow: boolean } {
  const person = personByCpf(state.config.seed, cpf)
  if (!person) {
    return { outcome: { status: 'SUCCESS', description: null, margin: strangerMargin(state.config.seed, cpf), installmentsMax: 24 }, slow: false }
  }
  if (person.scenario === 'rejected' || person.data_nascimento !== birthDate) {
    return { outcome: { status: 'REJECTED', description: REJECTION_REASON, margin: '0.00', installmentsMax: 0 }, slow: false }
  }
  return {
    outcome: { status: 'SUCCESS', description: null, margin: person.margin, installmentsMax: person.installmentsMax },
    slow: person.scenario === 'slow',
  }
}

/** A partner id as V8 writes it (a uuid), stable per login. */
function partnerUuid (user: string): string {
  const hex = [0, 1, 2, 3].map((k) => hash32('partner', user, k).toString(16).padStart(8, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

function ageAt (birthDate: string, now: number): number {
  const birth = new Date(`${birthDate}T00:00:00Z`)
  const today = new Date(now)
  let age = today.getUTCFullYear() - birth.getUTCFullYear()
  const beforeBirthday = today.getUTCMonth() < birth.getUTCMonth() || (today.getUTCMonth() === birth.getUTCMonth() && today.getUTCDate() < birth.getUTCDate())
  if (beforeBirthday) age--
  return age
}

export function consultRoutes (app: FastifyInstance, state: SandboxState): void {
  /** POST /private-consignment/consult */
  app.post(BASE, async (request, reply) => {
    const user = bearerUser(state, request, reply)
    if (user === null) return reply
    const parsed = consultBody.safeParse(request.body ?? {})
    if (!parsed.success) return validationError(reply, parsed.error)
    const body = parsed.data
    const now = state.now()
    if (ageAt(body.birthDate, now) < 18) {
      return v8Error(reply, 400, 'age_validation_minimum_age_not_reached', 'Borrower must be at least 18 years old')
    }
    const mine = state.consultsOf(user)
    const active = [...mine.values()].find((c) => c.cpf === body.borrowerDocumentNumber && !['REJECTED', 'FAILED'].includes(consultStatus(c, now)))
    if (active) {
      return v8Error(reply, 400, 'consult_already_exists_by_user_and_document_number', 'There is already an active consult for this document number')
    }
    const { outcome, slow } = outcomeFor(state, body.borrowerDocumentNumber, body.birthDate)
    const consult = {
      id: randomUUID(),
      user,
      cpf: body.borrowerDocumentNumber,
      name: body.signerName.toUpperCase(),
      birthDate: body.birthDate,
      gender: body.gender,
      phone: body.signerPhone.areaCode + body.signerPhone.phoneNumber,
      provider: body.provider,
      partnerId: partnerUuid(user),
      createdAt: now,
      authorizedAt: null,
      finalAt: null,
      approvedUntil: null,
      analysisFrom: null,
      outcome,
      slow,
    }
    mine.set(consult.id, consult)
    state.stats.consults_created++
    state.count('consults_by_cpf', consult.cpf)
    // Only {id} is attested (every caller reads nothing else).
    return reply.code(201).send({ id: consult.id })
  })

  /** POST /private-consignment/consult/:id/authorize */
  app.post(`${BASE}/:id/authorize`, async (request, reply) => {
    const user = bearerUser(state, request, reply)
    if (user === null) return reply
    const { id } = request.params as { id: string }
    const consult = state.consultsOf(user).get(id)
    if (!consult) return v8Error(reply, 404, 'consult_not_found', `Consult ${id} not found`)
    if (consult.authorizedAt !== null) return v8Error(reply, 400, 'consult_already_approved', 'Consult already approved')
    const now = state.now()
    const { consultDelayMs, slowMs } = state.config
    consult.authorizedAt = now
    consult.finalAt = now + (consult.slow ? slowMs : consultDelayMs)
    consult.approvedUntil = now + Math.floor(consultDelayMs / 3)
    consult.analysisFrom = consult.finalAt - Math.floor(consultDelayMs / 2)
    state.stats.authorizations++
    return reply.code(200).type('text/plain').send('Successful response')
  })

  /** GET /private-consignment/consult */
  app.get(BASE, async (request, reply) => {
    const user = bearerUser(state, request, reply)
    if (user === null) return reply
    const q = readListQuery(consultListQuery, request, reply)
    if (q === null) return reply
    const now = state.now()
    const rows = [...state.consultsOf(user).values()]
      .filter((c) => c.createdAt >= q.from && c.createdAt <= q.to)
      .filter((c) => !q.provider || c.provider === q.provider)
      .filter((c) => !q.cpfSearch || c.cpf.includes(q.cpfSearch))
      .filter((c) => !q.status || consultStatus(c, now) === q.status)
      .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id))
    const page = pageOf(rows, q)
    const totalPages = Math.ceil(rows.length / q.limit)
    return {
      data: page.map((c) => consultRow(c, now)),
      pages: { total: rows.length, limit: q.limit, current: q.page, hasNext: q.page < totalPages, hasPrevious: q.page > 1, totalPages },
    }
  })

  /** GET /private-consignment/consult/:id */
  app.get(`${BASE}/:id`, async (request, reply) => {
    const user = bearerUser(state, request, reply)
    if (user === null) return reply
    const { id } = request.params as { id: string }
    const consult = state.consultsOf(user).get(id)
    if (!consult) return v8Error(reply, 404, 'consult_not_found', `Consult ${id} not found`)
    return consultDetail(consult, state.now())
  })

  /** GET /private-consignment/consult/client-data/basic/:cpf — what V8 knows of the person (not everyone; gender not always). */
  app.get(`${BASE}/client-data/basic/:cpf`, async (request, reply) => {
    if (bearerUser(state, request, reply) === null) return reply
    const { cpf } = request.params as { cpf: string }
    const p = personByCpf(state.config.seed, cpf.replace(/\D/g, ''))
    if (!p || !p.v8Knows) return v8Error(reply, 404, 'client_not_found', 'Client data not found for this document number')
    return {
      name: p.nome,
      // Date-only for some, with a time part for others (one caller cuts it with [:10]).
      birthDate: p.index % 2 ? `${p.data_nascimento}T00:00:00.000Z` : p.data_nascimento,
      email: p.email,
      phoneRegionCode: p.telefone.slice(0, 2),
      phoneNumber: p.telefone.slice(2),
      ...(p.v8Gender ? { gender: p.sexo === 'M' ? 'male' : 'female' } : {}),
    }
  })
}
