/**
 * What V8 POSTs to a registered webhook (test/fixtures/upstream/v8/webhook.event.*.json): a JSON object told apart
 * by its top-level `type`. No event id, no timestamp, no CPF in any payload seen: events are correlated by
 * consultId / operationId only, and their idempotency id is derived from their content.
 */
import { createHash } from 'node:crypto'

export type V8Event =
  | { kind: 'test' | 'registered'; type: string }
  | {
    kind: 'consult'
    type: string
    consultId: string
    status: string
    description: string | null
    availableMarginValue: string | null
    simulationLimit: Record<string, unknown> | null
  }
  | { kind: 'operation'; type: string; operationId: string; status: string }
  /** A type we do not handle, or one of ours missing its id or status: stored, never applied. */
  | { kind: 'unknown'; type: string; problem: string }

export const EVENT_TYPES = {
  test: 'webhook.test',
  registered: 'webhook.registered',
  consult: 'private.consignment.consult.updated',
  operationCreated: 'private.consignment.operation.created',
  operationUpdated: 'private.consignment.operation.updated',
} as const

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The first key holding non-empty text (or a number), top level first, then a `data{}` wrapper (other callers' guess). */
function pick (p: Obj, keys: readonly string[]): string | null {
  const scopes = [p, isObj(p['data']) ? p['data'] : undefined].filter(isObj)
  for (const scope of scopes) {
    for (const k of keys) {
      const v = scope[k]
      if (typeof v === 'string' && v.trim() !== '') return v.trim()
      if (typeof v === 'number' && Number.isFinite(v)) return String(v)
    }
  }
  return null
}

/** Read an event. Key variants other callers try are accepted (consult_id, operation_id, data.*, descricao, …). */
export function parseV8Event (payload: unknown): V8Event {
  if (!isObj(payload)) return { kind: 'unknown', type: '', problem: 'not a JSON object' }
  const type = typeof payload['type'] === 'string' ? payload['type'].trim() : ''
  switch (type) {
    case EVENT_TYPES.test:
      return { kind: 'test', type }
    case EVENT_TYPES.registered:
      return { kind: 'registered', type }
    case EVENT_TYPES.consult: {
      const consultId = pick(payload, ['consultId', 'consult_id', 'id'])
      const status = pick(payload, ['status'])?.toUpperCase() ?? null
      if (!consultId || !status) return { kind: 'unknown', type, problem: consultId ? 'status missing' : 'consultId missing' }
      const limit = payload['simulationLimit']
      return {
        kind: 'consult',
        type,
        consultId,
        status,
        description: pick(payload, ['description', 'detail', 'descricao', 'failureReason']),
        availableMarginValue: pick(payload, ['availableMarginValue', 'marginBaseValue']),
        simulationLimit: isObj(limit) ? limit : null,
      }
    }
    case EVENT_TYPES.operationCreated:
    case EVENT_TYPES.operationUpdated: {
      const operationId = pick(payload, ['operationId', 'operation_id', 'id'])
      const status = pick(payload, ['status'])?.toLowerCase() ?? null
      if (!operationId || !status) return { kind: 'unknown', type, problem: operationId ? 'status missing' : 'operationId missing' }
      return { kind: 'operation', type, operationId, status }
    }
    default:
      return { kind: 'unknown', type, problem: type ? 'type not handled' : 'type missing' }
  }
}

/** JSON with object keys sorted at every level: the same content gives the same text whatever the key order. */
export function canonicalJson (v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`
  return JSON.stringify(v) ?? 'null'
}

/**
 * The idempotency id of a delivery: a hash of its whole content (canonical JSON). A redelivery of the same event is
 * byte-for-byte the same content, so it lands on the same id; whatever extra fields real events carry (LC sees
 * 2–10 KB payloads) tell two real transitions apart. Handshakes are keyed by their type alone.
 */
export function eventId (payload: unknown): string {
  return 'v8_' + createHash('sha256').update(canonicalJson(payload)).digest('hex').slice(0, 32)
}
