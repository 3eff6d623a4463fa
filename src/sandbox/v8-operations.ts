/**
 * V8 BFF operations: a deterministic set of 30 contracts over the last 60 days, as real rows (operationId, name,
 * documentNumber, amounts as text, history[{action,…}]), plus the ones made through POST /operation (from a
 * simulation of this login; `{id, formalization_url}`), with the snake_case detail, cancel, the pendency actions,
 * document upload and GET /banks. Created operations move along a timeline (v8-operation-model.ts).
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { bearerUser } from './auth.js'
import { CONTROL_PREFIX } from './faults.js'
import { personAt } from './population.js'
import { hash32 } from './random.js'
import type { OperationRecord, SandboxState } from './state.js'
import { DEFAULT_MONTHLY_RATE, listQuery, pageOf, presentValue, readListQuery, round2 } from './v8-common.js'
import { BANKS, CANCELABLE, createBody, fakeUuid, operationDetail, operationRow, operationStatus, reschedule } from './v8-operation-model.js'

export { operationStatus } from './v8-operation-model.js'

export const OPERATION_COUNT = 30
export const OPERATION_STATUSES = ['generating_ccb', 'formalization', 'analysis', 'processing', 'paid', 'canceled', 'rejected', 'pending'] as const
const DAY = 86_400_000
const BASE = '/private-consignment/operation'

/** V8's error for operations: `{title, detail}` (no caller recorded a `type` code for these endpoints). */
const refuse = (reply: FastifyReply, status: number, detail: string): FastifyReply => reply.code(status).send({ title: status === 404 ? 'Not Found' : 'Bad Request', detail })

/**
 * The operations as of `now`: dates are anchored to the start of the current UTC day, so a day's listing is stable.
 * `provider` is the sandbox's own bookkeeping for the `provider` filter (real rows do not carry it): strip it.
 */
export function operationsAt (seed: number, now: number): Array<Record<string, unknown> & { provider: string }> {
  const today = Math.floor(now / DAY) * DAY
  return Array.from({ length: OPERATION_COUNT }, (_, i) => {
    const person = personAt(seed, 'ok', i)
    const createdAt = today - (i * 2 + 1) * DAY + (hash32('op-time', seed, i) % DAY)
    const status = OPERATION_STATUSES[i % OPERATION_STATUSES.length] ?? 'pending'
    const n = [12, 18, 24][i % 3] ?? 24
    const issue = round2(presentValue(Number(person.margin), n, DEFAULT_MONTHLY_RATE / 100))
    const disbursed = round2(issue * 0.97)
    const path = OPERATION_STATUSES.slice(0, Math.max(1, OPERATION_STATUSES.indexOf(status) + 1))
    return {
      operationId: fakeUuid('operation', seed, i),
      contractNumber: `MAG${String(hash32('contract', seed, i) % 10_000_000_000).padStart(10, '0')}`,
      name: person.nome,
      documentNumber: person.cpf,
      // The list leaves these null; only the detail fills them.
      issueAmount: null,
      disbursedIssueAmount: disbursed.toFixed(2),
      installmentFaceValue: null,
      numberOfInstallments: null,
      status,
      partnerId: fakeUuid('partner-op', seed),
      partnerInternalId: null,
      createdAt: new Date(createdAt).toISOString(),
      history: path.map((s, k) => ({
        id: fakeUuid('history', seed, i, k),
        action: s,
        description: s === 'generating_ccb' ? 'Operação criada' : `Status: ${s}`,
        reason: null,
        created_at: new Date(createdAt + k * 3_600_000).toISOString(),
      })),
      provider: i % 3 === 2 ? 'CELCOIN' : 'QI',
    }
  })
}

function withoutProvider (op: Record<string, unknown>): Record<string, unknown> {
  const row = { ...op }
  delete row['provider']
  return row
}

/** The simulation of this login with this id, and its consult. */
function findSimulation (state: SandboxState, user: string, id: string): { consultId: string; cpf: string; name: string; body: Record<string, unknown> } | undefined {
  for (const c of state.consultsOf(user).values()) {
    const sim = state.simulations.get(c.id)?.find((s) => s.body['id_simulation'] === id)
    if (sim) return { consultId: c.id, cpf: c.cpf, name: c.name, body: sim.body }
  }
  return undefined
}

export function operationRoutes (app: FastifyInstance, state: SandboxState): void {
  const mine = (request: FastifyRequest, user: string): OperationRecord | undefined => {
    const op = state.operations.get((request.params as { id: string }).id)
    return op && op.user === user ? op : undefined
  }

  /** GET /private-consignment/operation */
  app.get(BASE, async (request, reply) => {
    const user = bearerUser(state, request, reply)
    if (user === null) return reply
    const q = readListQuery(listQuery, request, reply)
    if (q === null) return reply
    const now = state.now()
    const created: Array<Record<string, unknown> & { provider: string }> = [...state.operations.values()].filter((op) => op.user === user).map((op) => ({ ...operationRow(op, now), provider: op.provider }))
    const all = [...created.reverse(), ...operationsAt(state.config.seed, now)].filter((op) => {
      const at = Date.parse(String(op['createdAt']))
      return at >= q.from && at <= q.to && (!q.provider || op['provider'] === q.provider) && (!q.cpfSearch || String(op['documentNumber']).includes(q.cpfSearch))
    })
    const page = pageOf(all, q).map(withoutProvider)
    const shape = state.config.operationsShape
    if (shape === 'array') return page
    if (shape === 'items') return { items: page, total: all.length, page: q.page, limit: q.limit }
    return { data: page, total: all.length, page: q.page, limit: q.limit }
  })

  /** POST /private-consignment/operation — `{id, formalization_url}` (the only keys any caller reads). */
  app.post(BASE, async (request, reply) => {
    const user = bearerUser(state, request, reply)
    if (user === null) return reply
    const parsed = createBody.safeParse(request.body ?? {})
    if (!parsed.success) {
      const i = parsed.error.issues[0]!
      return refuse(reply, 400, `${i.path.join('.')} ${i.message}`)
    }
    const b = parsed.data
    const sim = findSimulation(state, user, b.simulation_id)
    if (!sim) return refuse(reply, 400, `Simulation ${b.simulation_id} not found`)
    if (b.borrower.individual_document_number !== sim.cpf) return refuse(reply, 400, 'borrower.individual_document_number does not match the simulation consult')
    const now = state.now()
    const open = [...state.operations.values()].find((op) => op.simulationId === b.simulation_id && !['canceled', 'rejected', 'refunded'].includes(operationStatus(op, now)))
    if (open) return refuse(reply, 400, `An operation already exists for simulation ${b.simulation_id}`)
    const id = randomUUID()
    const op: OperationRecord = {
      id,
      user,
      cpf: sim.cpf,
      name: b.borrower.name.toUpperCase(),
      provider: b.provider ?? String(sim.body['provider'] ?? 'QI'),
      simulationId: b.simulation_id,
      consultId: sim.consultId,
      simulation: sim.body,
      borrower: b.borrower as unknown as Record<string, unknown>,
      formalizationUrl: `http://${request.headers.host ?? '127.0.0.1'}${CONTROL_PREFIX}/formalizacao/${id}`,
      contractNumber: `MAG${String(hash32('contract', id) % 10_000_000_000).padStart(10, '0')}`,
      createdAt: now,
      timeline: [
        { at: now, status: 'generating_ccb', description: 'Operação criada' },
        { at: now + state.config.operationDelayMs, status: 'formalization', description: 'CCB gerada, aguardando assinatura' },
      ],
      documents: 0,
    }
    state.operations.set(id, op)
    state.stats.operations_created++
    state.count('operations_by_cpf', op.cpf)
    return reply.code(200).send({ id, formalization_url: op.formalizationUrl })
  })

  /** GET /private-consignment/operation/:id — the snake_case detail (created ones; listed ones too). */
  app.get(`${BASE}/:id`, async (request, reply) => {
    const user = bearerUser(state, request, reply)
    if (user === null) return reply
    const op = mine(request, user)
    if (op) return operationDetail(op, state.now())
    const listed = operationsAt(state.config.seed, state.now()).find((o) => o['operationId'] === (request.params as { id: string }).id)
    if (!listed) return refuse(reply, 404, 'Operation not found')
    return {
      id: listed['operationId'],
      status: listed['status'],
      provider: listed['provider'],
      document_number: listed['documentNumber'],
      contract_number: listed['contractNumber'],
      contract_url: null,
      created_at: listed['createdAt'],
      updated_at: listed['createdAt'],
      borrower: { name: listed['name'], document_number: listed['documentNumber'] },
      operation_data: { disbursed_issue_amount: listed['disbursedIssueAmount'] },
      operation_history: listed['history'],
    }
  })

  /** POST /private-consignment/operation/:id/cancel `{cancel_reason, cancel_description, provider}` */
  app.post(`${BASE}/:id/cancel`, async (request, reply) => {
    const user = bearerUser(state, request, reply)
    if (user === null) return reply
    const op = mine(request, user)
    if (!op) return refuse(reply, 404, 'Operation not found')
    const body = z.object({ cancel_reason: z.string().regex(/^[a-z_]+:[a-z_]+$/), cancel_description: z.string().max(200), provider: z.enum(['QI', 'CELCOIN']).optional() }).safeParse(request.body ?? {})
    if (!body.success) return refuse(reply, 400, `${body.error.issues[0]!.path.join('.')} ${body.error.issues[0]!.message}`)
    const now = state.now()
    if (!CANCELABLE.has(operationStatus(op, now))) return refuse(reply, 400, 'Operation cannot be canceled in its current status')
    reschedule(op, now, [
      { after: 0, status: 'awaiting_cancel', description: body.data.cancel_description },
      { after: state.config.operationDelayMs, status: 'canceled', description: body.data.cancel_reason },
    ])
    state.stats.operations_canceled++
    return reply.code(200).type('text/plain').send('')
  })

  /** PATCH /private-consignment/operation/:id/pendency/payment-data `{bank}` — a pending operation goes back to analysis. */
  app.patch(`${BASE}/:id/pendency/payment-data`, async (request, reply) => {
    const user = bearerUser(state, request, reply)
    if (user === null) return reply
    const op = mine(request, user)
    if (!op) return refuse(reply, 404, 'Operation not found')
    const bank = createBody.shape.borrower.shape.bank.safeParse((request.body as { bank?: unknown } | undefined)?.bank)
    if (!bank.success) return refuse(reply, 400, `bank ${bank.error.issues[0]!.message}`)
    const now = state.now()
    if (operationStatus(op, now) !== 'pending') return refuse(reply, 400, 'Operation has no payment data pendency')
    op.borrower = { ...op.borrower, bank: bank.data }
    reschedule(op, now, [{ after: 0, status: 'analysis', description: 'Dados bancários reapresentados' }])
    return reply.code(200).type('text/plain').send('')
  })

  /** PATCH /private-consignment/operation/:id/pendency/presentation — re-present after solving the pendencies. */
  app.patch(`${BASE}/:id/pendency/presentation`, async (request, reply) => {
    const user = bearerUser(state, request, reply)
    if (user === null) return reply
    const op = mine(request, user)
    if (!op) return refuse(reply, 404, 'Operation not found')
    const now = state.now()
    if (operationStatus(op, now) !== 'pending') return refuse(reply, 400, 'Operation has no pendency to present')
    reschedule(op, now, [{ after: 0, status: 'analysis', description: 'Reapresentada' }])
    return reply.code(200).type('text/plain').send('')
  })

  /** POST /private-consignment/operation/:id/document — multipart `type` + `file`. */
  app.post(`${BASE}/:id/document`, async (request, reply) => {
    const user = bearerUser(state, request, reply)
    if (user === null) return reply
    const op = mine(request, user)
    if (!op) return refuse(reply, 404, 'Operation not found')
    const raw = Buffer.isBuffer(request.body) ? request.body.toString('latin1') : ''
    const type = /name="type"\r\n\r\n([a-z_]+)\r\n/.exec(raw)?.[1]
    if (!type || !/name="file"; filename="[^"]+"/.test(raw)) return refuse(reply, 400, 'multipart fields type and file are required')
    if (!['identification_front', 'identification_back', 'address_proof', 'paycheck', 'selfie', 'other'].includes(type)) return refuse(reply, 400, `type ${type} is not accepted`)
    op.documents++
    return reply.code(200).type('text/plain').send('')
  })

  /** GET /banks */
  app.get('/banks', async (request, reply) => {
    if (bearerUser(state, request, reply) === null) return reply
    return { data: BANKS }
  })

  /** GET /__sandbox/formalizacao/:id — the borrower's signing page (what formalization_url opens). */
  app.get(`${CONTROL_PREFIX}/formalizacao/:id`, async (request, reply) => {
    const op = state.operations.get((request.params as { id: string }).id)
    if (!op) return reply.code(404).send({ error: 'not_found', message: 'operation not found' })
    return reply.type('text/html; charset=utf-8').send(`<!doctype html><title>Formalização</title><h1>Contrato ${op.contractNumber}</h1><p>Status: ${operationStatus(op, state.now())}</p>`)
  })

  /** POST /__sandbox/formalizacao/:id/assinar — the borrower signs: analysis, then processing, then paid. */
  app.post(`${CONTROL_PREFIX}/formalizacao/:id/assinar`, async (request, reply) => {
    const op = state.operations.get((request.params as { id: string }).id)
    if (!op) return reply.code(404).send({ error: 'not_found', message: 'operation not found' })
    const now = state.now()
    if (operationStatus(op, now) !== 'formalization') return reply.code(409).send({ error: 'conflict', message: `operation is ${operationStatus(op, now)}` })
    const d = state.config.operationDelayMs
    reschedule(op, now, [
      { after: 0, status: 'analysis', description: 'Contrato assinado' },
      { after: d, status: 'processing', description: 'Pagamento em processamento' },
      { after: 2 * d, status: 'paid', description: 'Pago' },
    ])
    return { success: true }
  })

  /** POST /__sandbox/operations/:id/status {status} — move an operation by hand (pendencies, rejections…). */
  app.post(`${CONTROL_PREFIX}/operations/:id/status`, async (request, reply) => {
    const op = state.operations.get((request.params as { id: string }).id)
    if (!op) return reply.code(404).send({ error: 'not_found', message: 'operation not found' })
    const status = (request.body as { status?: unknown } | undefined)?.status
    if (typeof status !== 'string' || !/^[a-z_]+$/.test(status)) return reply.code(400).send({ error: 'bad_request', message: 'status must be a lowercase V8 status' })
    reschedule(op, state.now(), [{ after: 0, status, description: 'sandbox control' }])
    return { success: true, status }
  })
}
