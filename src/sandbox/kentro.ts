/** Kentro CRM (AtenderBem) `POST /kentro/int/<method>`: opportunities of the population plus API-made edits and creations. */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { INITIAL_STAGE, personByOpportunityId, SCENARIOS, listPeople, type Person } from './population.js'
import type { SandboxState } from './state.js'

export const KENTRO_API_KEY = 'sandbox'
const BASE = '/kentro/int'
/** formsdata keys of UPSTREAM.md §2, plus `sexo` (M/F), which tenants read through KENTRO_GENDER_FIELD. */
export const FORM_KEYS = {
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
  gender: 'sexo',
} as const
const EDITABLE = ['title', 'mainphone', 'mainmail', 'value', 'description', 'status', 'fkPipeline'] as const
type Opportunity = Record<string, unknown> & { id: number; formsdata: Record<string, unknown> }

/**
 * mainphone as CRMs really hold it: mostly 55+DDD+mobile, but also formatted, without the country code, or an old
 * 8-digit mobile without the leading 9 — tenants normalize it to /people's `telefone` (UPSTREAM.md §4).
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

export function opportunityOf (p: Person): Opportunity {
  const [y, m, d] = p.data_nascimento.split('-')
  const formsdata: Record<string, unknown> = {
    [FORM_KEYS.email]: p.email,
    [FORM_KEYS.birthDate]: `${d}/${m}/${y}`,
    [FORM_KEYS.mother]: p.mae,
    [FORM_KEYS.mobile]: p.telefone,
    [FORM_KEYS.cep]: p.cep,
    [FORM_KEYS.street]: p.rua,
    [FORM_KEYS.number]: p.numero,
    [FORM_KEYS.district]: p.bairro,
    [FORM_KEYS.city]: p.cidade,
    [FORM_KEYS.state]: p.uf,
    [FORM_KEYS.gender]: p.sexo,
  }
  if (p.scenario === 'incomplete') delete formsdata[FORM_KEYS.birthDate]
  return {
    id: p.opportunityId ?? 0,
    title: p.nome,
    mainphone: mainphoneOf(p),
    mainmail: p.cpf,
    fkPipeline: p.pipelineId,
    fkStage: INITIAL_STAGE,
    status: 0,
    value: 0,
    description: 'Lead CLT',
    createdAt: p.createdAt,
    tags: [],
    formsdata,
  }
}

function num (v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN
  return Number.isFinite(n) ? n : undefined
}

/** formsdata and tags may arrive as JSON text in a form-encoded body. */
function jsonish (v: unknown): unknown {
  if (typeof v !== 'string') return v
  try {
    return JSON.parse(v)
  } catch {
    return v
  }
}

function tagsOf (v: unknown): number[] | undefined {
  const value = jsonish(v)
  if (!Array.isArray(value)) return undefined
  return value.map((t) => num(t)).filter((t): t is number => t !== undefined)
}

export function kentroRoutes (app: FastifyInstance, state: SandboxState): void {
  const current = (id: number): Opportunity | null => {
    const created = state.kentroCreated.get(id)
    const person = created ? null : personByOpportunityId(state.config.seed, id)
    const base = (created as Opportunity | undefined) ?? (person ? opportunityOf(person) : null)
    if (!base) return null
    const edit = state.kentroEdits.get(id)
    if (!edit) return base
    const formsdata = { ...base.formsdata, ...((edit['formsdata'] as Record<string, unknown> | undefined) ?? {}) }
    return { ...base, ...edit, id, formsdata }
  }

  const edit = (id: number, changes: Record<string, unknown>): void => {
    const before = state.kentroEdits.get(id) ?? {}
    const formsdata = { ...((before['formsdata'] as Record<string, unknown> | undefined) ?? {}), ...((changes['formsdata'] as Record<string, unknown> | undefined) ?? {}) }
    state.kentroEdits.set(id, { ...before, ...changes, formsdata })
  }

  const method = (name: string, required: string[], handler: (b: Record<string, unknown>, reply: FastifyReply) => unknown): void => {
    app.post(`${BASE}/${name}`, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>
      const missing = ['queueId', 'apiKey', ...required].some((k) => body[k] === undefined || body[k] === null || body[k] === '')
      if (missing) return reply.code(400).send({ message: 'Missing required data' })
      if (body['apiKey'] !== KENTRO_API_KEY) return reply.code(401).send({ message: 'Invalid apiKey' })
      return handler(body, reply)
    })
  }
  const notFound = (reply: FastifyReply): FastifyReply => reply.code(404).send({ message: 'Opportunity not found' })

  /** POST /kentro/int/getPipeOpportunities */
  method('getPipeOpportunities', ['pipelineId'], (b) => {
    const pipelineId = num(b['pipelineId'])
    const ids: number[] = []
    for (const scenario of SCENARIOS) {
      if (scenario === 'no_opportunity') continue
      for (const p of listPeople(state.config.seed, scenario, state.kentroListed[scenario])) if (p.opportunityId !== null) ids.push(p.opportunityId)
    }
    ids.push(...state.kentroCreated.keys())
    return ids
      .map((id) => current(id))
      .filter((o): o is Opportunity => o !== null && num(o['fkPipeline']) === pipelineId && num(o['status']) === 0)
      .sort((a, b) => a.id - b.id)
  })

  /** POST /kentro/int/getOpportunity */
  method('getOpportunity', ['id'], (b, reply) => current(num(b['id']) ?? -1) ?? notFound(reply))

  /** POST /kentro/int/createOpportunity */
  method('createOpportunity', ['fkPipeline', 'fkStage', 'title'], (b) => {
    const id = state.kentroNextId++
    const formsdata = jsonish(b['formsdata'])
    state.kentroCreated.set(id, {
      id,
      title: String(b['title']),
      mainphone: String(b['mainphone'] ?? ''),
      mainmail: String(b['mainmail'] ?? ''),
      fkPipeline: num(b['fkPipeline']),
      fkStage: num(b['fkStage']),
      status: 0,
      value: num(b['value']) ?? 0,
      description: String(b['description'] ?? ''),
      createdAt: new Date(state.now()).toISOString(),
      tags: tagsOf(b['tags']) ?? [],
      formsdata: formsdata && typeof formsdata === 'object' ? formsdata : {},
    })
    state.stats.kentro_writes++
    return { id }
  })

  /** POST /kentro/int/updateOpportunity */
  method('updateOpportunity', ['id'], (b, reply) => {
    const id = num(b['id']) ?? -1
    if (!current(id)) return notFound(reply)
    const changes: Record<string, unknown> = {}
    for (const key of EDITABLE) if (b[key] !== undefined) changes[key] = ['value', 'status', 'fkPipeline'].includes(key) ? num(b[key]) : b[key]
    const formsdata = jsonish(b['formsdata'])
    if (formsdata && typeof formsdata === 'object') changes['formsdata'] = formsdata
    const tags = tagsOf(b['tags'])
    if (tags) changes['tags'] = tags
    edit(id, changes) // fkStage is not editable here: changeOpportunityStage moves stages
    state.stats.kentro_writes++
    return { success: true }
  })

  /** POST /kentro/int/changeOpportunityStage */
  method('changeOpportunityStage', ['id', 'destStageId'], (b, reply) => {
    const id = num(b['id']) ?? -1
    if (!current(id)) return notFound(reply)
    edit(id, { fkStage: num(b['destStageId']) })
    state.stats.kentro_writes++
    return { success: true }
  })

  /** POST /kentro/int/* (unknown method) */
  app.post(`${BASE}/*`, async (_request, reply) => reply.code(404).send({ message: 'Method not found' }))
}
