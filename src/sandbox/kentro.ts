/**
 * Kentro CRM (AtenderBem) `POST /kentro/int/<method>`: opportunities of the population (shaped in crm.ts) plus
 * API-made edits and creations. Like the real one: writes answer `{id}` (a stage change sometimes an empty body),
 * updateOpportunity REPLACES tags and formsdata when given, errors carry the vendor codes (AUTH_018, OPP_002).
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { opportunityOf, type Opportunity } from './crm.js'
import { personByOpportunityId, SCENARIOS, listPeople } from './population.js'
import type { SandboxState } from './state.js'

export { FORM, mainphoneOf, opportunityOf } from './crm.js'

export const KENTRO_API_KEY = 'sandbox'
const BASE = '/kentro/int'
const EDITABLE = ['title', 'mainphone', 'mainmail', 'value', 'description', 'status', 'fkPipeline'] as const

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

/** Tags as the API takes them: int[] (string ids and a comma string tolerated, as the real one seems to). */
function tagsOf (v: unknown): number[] | undefined {
  const value = jsonish(v)
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined
  return list?.map((t) => num(t)).filter((t): t is number => t !== undefined)
}

export function kentroRoutes (app: FastifyInstance, state: SandboxState): void {
  const current = (id: number): Opportunity | null => {
    const created = state.kentroCreated.get(id)
    const person = created ? null : personByOpportunityId(state.config.seed, id)
    const base = (created as Opportunity | undefined) ?? (person ? opportunityOf(person, id === person.cloneId) : null)
    if (!base) return null
    const edit = state.kentroEdits.get(id)
    return edit ? { ...base, ...edit, id } : base
  }

  // Arrays and formsdata given to updateOpportunity replace what was there (no source shows the server merging).
  const edit = (id: number, changes: Record<string, unknown>): void => {
    state.kentroEdits.set(id, { ...state.kentroEdits.get(id), ...changes })
  }

  const method = (name: string, required: string[], handler: (b: Record<string, unknown>, reply: FastifyReply) => unknown): void => {
    app.post(`${BASE}/${name}`, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>
      const missing = ['queueId', 'apiKey', ...required].some((k) => body[k] === undefined || body[k] === null || body[k] === '')
      if (missing) return reply.code(400).send({ message: 'Missing required data' })
      if (body['apiKey'] !== KENTRO_API_KEY) return reply.code(401).send({ message: 'AUTH_018 - Invalid apiKey for this queue' })
      return handler(body, reply)
    })
  }
  const notFound = (reply: FastifyReply): FastifyReply => reply.code(404).send({ message: 'OPP_002 - Opportunity not found' })

  /** POST /kentro/int/getPipeOpportunities */
  method('getPipeOpportunities', ['pipelineId'], (b) => {
    const pipelineId = num(b['pipelineId'])
    const ids: number[] = []
    for (const scenario of SCENARIOS) {
      if (scenario === 'no_opportunity') continue
      for (const p of listPeople(state.config.seed, scenario, state.kentroListed[scenario])) {
        if (p.opportunityId !== null) ids.push(p.opportunityId)
        if (p.cloneId !== null) ids.push(p.cloneId)
      }
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
    return { id }
  })

  /** POST /kentro/int/changeOpportunityStage */
  method('changeOpportunityStage', ['id', 'destStageId'], (b, reply) => {
    const id = num(b['id']) ?? -1
    if (!current(id)) return notFound(reply)
    edit(id, { fkStage: num(b['destStageId']) })
    state.stats.kentro_writes++
    // Callers treat this answer as "empty or text" (EVO postRaw): odd ids get an empty 200, even ones {id}.
    return id % 2 ? reply.code(200).type('text/plain').send('') : { id }
  })

  /** POST /kentro/int/* (unknown method) */
  app.post(`${BASE}/*`, async (_request, reply) => reply.code(404).send({ message: 'Method not found' }))
}
