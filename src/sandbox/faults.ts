/** Fault injection on upstream routes: latency, error statuses, held requests (timeouts) and connection resets. */
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { SandboxState } from './state.js'

export const CONTROL_PREFIX = '/__sandbox'

export const faultRuleSchema = z.object({
  latency_ms: z.number().int().min(0).max(120_000).optional(),
  /** Share of matching calls that fail (0..1); defaults to 1 when a status or mode is given, else 0. */
  error_rate: z.number().min(0).max(1).optional(),
  status: z.union([z.literal(503), z.literal(429), z.literal(500), z.literal(502), z.literal(504)]).optional(),
  mode: z.enum(['status', 'timeout', 'reset']).optional(),
  /**
   * before (default): the call fails before the upstream acts. after: the upstream acts (a consult is created),
   * then the answer is replaced/held/dropped — the ambiguous failure a client must not blindly repeat.
   */
  phase: z.enum(['before', 'after']).optional(),
  retry_after_s: z.number().int().min(0).max(3600).optional(),
  /** Path prefixes (e.g. "/oauth/token", "/private-consignment/consult"); default: every upstream route. */
  routes: z.array(z.string().startsWith('/')).optional(),
  /** Only these HTTP methods (e.g. ["GET"]); default: all. */
  methods: z.array(z.string().toUpperCase()).optional(),
  /** Affect only the next N matching calls, then the rule disappears. */
  count: z.number().int().min(1).optional(),
})
export type FaultRuleInput = z.infer<typeof faultRuleSchema>

export interface FaultRule extends FaultRuleInput {
  /** Calls still to affect; undefined = unlimited. */
  remaining?: number
}

export function toRule (input: FaultRuleInput): FaultRule {
  return { ...input, remaining: input.count }
}

function matches (rule: FaultRule, method: string, path: string): boolean {
  if (path.startsWith(CONTROL_PREFIX)) return false
  if (rule.methods && !rule.methods.includes(method)) return false
  if (rule.routes && !rule.routes.some((prefix) => path.startsWith(prefix))) return false
  return true
}

/** The error body each upstream uses, so clients parse injected failures like real ones. */
function faultBody (path: string, status: number): Record<string, unknown> {
  const text = { 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }[status] ?? 'Error'
  if (path.startsWith('/oauth/token')) return status === 429 ? { error: 'too_many_requests', error_description: 'Global limit has been reached' } : { error: 'server_error', error_description: text }
  if (path.startsWith('/kentro') || path.startsWith('/presenca')) return { message: text }
  return { type: status === 429 ? 'too_many_requests' : 'service_unavailable', title: text, detail: `sandbox fault: ${text}` }
}

/** A failure decided at onRequest, to apply when the answer leaves (phase 'after'). */
interface LateFault {
  mode: 'status' | 'timeout' | 'reset'
  status: number
  retryAfter?: number
}

/** Hold a request without answering until the client leaves, the hold ends (socket dropped) or the app closes. */
function hold (state: SandboxState, held: Set<FastifyRequest>, request: FastifyRequest): Promise<void> {
  return new Promise((resolve) => {
    held.add(request)
    const socket = request.raw.socket
    const timer = setTimeout(() => socket.destroy(), state.config.timeoutHoldMs)
    socket.once('close', () => {
      clearTimeout(timer)
      held.delete(request)
      resolve()
    })
  })
}

/**
 * Hooks applying the first matching rule (requests to /__sandbox are never touched):
 * onRequest fails early or marks the request; onSend spoils the real answer of a marked one.
 */
export function faultHooks (state: SandboxState, held: Set<FastifyRequest>) {
  const late = new WeakMap<FastifyRequest, LateFault>()
  const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const fault = late.get(request)
    if (!fault) return payload
    late.delete(request)
    if (fault.mode === 'reset') {
      request.raw.socket.destroy()
      return payload
    }
    if (fault.mode === 'timeout') {
      await hold(state, held, request)
      return payload
    }
    if (fault.retryAfter !== undefined) void reply.header('retry-after', String(fault.retryAfter))
    void reply.code(fault.status).type('application/json; charset=utf-8')
    return JSON.stringify(faultBody(request.url.split('?')[0] ?? '', fault.status))
  }
  const onRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const path = request.url.split('?')[0] ?? request.url
    const rule = state.faults.find((r) => matches(r, request.method, path))
    if (!rule) return
    const failing = rule.status !== undefined || (rule.mode !== undefined && rule.mode !== 'status') || rule.error_rate !== undefined
    const rate = rule.error_rate ?? (failing ? 1 : 0)
    const fail = rate > 0 && state.faultRandom() < rate
    if (!fail && !rule.latency_ms) return
    state.stats.faults_injected++
    if (rule.remaining !== undefined && --rule.remaining <= 0) state.faults = state.faults.filter((r) => r !== rule)
    if (rule.latency_ms) await sleep(rule.latency_ms)
    if (!fail) return
    const mode = rule.mode ?? 'status'
    if (rule.phase === 'after') {
      late.set(request, { mode, status: rule.status ?? 503, retryAfter: rule.retry_after_s })
      return
    }
    if (mode === 'reset') {
      reply.hijack()
      request.raw.socket.destroy()
      return reply
    }
    if (mode === 'timeout') {
      reply.hijack()
      void hold(state, held, request)
      return reply
    }
    const status = rule.status ?? 503
    if (rule.retry_after_s !== undefined) void reply.header('retry-after', String(rule.retry_after_s))
    return reply.code(status).send(faultBody(path, status))
  }
  return { onRequest, onSend }
}
