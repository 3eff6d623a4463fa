/** The sandbox control plane under /__sandbox: people by scenario, stats, reset, faults, config, token revocation. */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { CONTROL_PREFIX, faultRuleSchema, toRule } from './faults.js'
import { listPeople, SCENARIOS, type Person } from './population.js'
import { signThroughLink } from './presenca.js'
import { presencaProfile } from './presenca-people.js'
import type { SandboxConfig, SandboxState } from './state.js'

export const MAX_PEOPLE = 5000

const peopleQuery = z.object({
  scenario: z.enum(SCENARIOS).default('ok'),
  limit: z.coerce.number().int().min(1).max(MAX_PEOPLE).default(20),
})

const configBody = z.object({
  token_ttl_s: z.number().int().min(1).max(30 * 86_400).optional(),
  consult_delay_ms: z.number().int().min(0).max(600_000).optional(),
  slow_ms: z.number().int().min(0).max(3_600_000).optional(),
  configs_shape: z.enum(['object', 'array']).optional(),
  operations_shape: z.enum(['data', 'items', 'array']).optional(),
  insurance_active: z.boolean().optional(),
  token_rps: z.number().int().min(0).optional(),
  login_failures_per_min: z.number().int().min(0).optional(),
  presenca_rpm: z.number().int().min(1).optional(),
  presenca_token_ttl_s: z.number().int().min(1).max(30 * 86_400).optional(),
  presenca_expire_at: z.enum(['iso', 'naive', 'none']).optional(),
  presenca_sign_delay_ms: z.number().int().min(0).max(600_000).optional(),
  presenca_unsigned: z.enum(['message', 'codes', '403']).optional(),
  presenca_margin_shape: z.enum(['object', 'array', 'alternate']).optional(),
  presenca_sign_glitch: z.boolean().optional(),
  presenca_self_sign: z.boolean().optional(),
  reject_duplicate_simulations: z.boolean().optional(),
  timeout_hold_ms: z.number().int().min(0).max(600_000).optional(),
  operation_delay_ms: z.number().int().min(0).max(600_000).optional(),
}).strict()

/** Body key → config field. */
const CONFIG_KEYS: Record<keyof z.infer<typeof configBody>, keyof SandboxConfig> = {
  token_ttl_s: 'tokenTtlSeconds',
  consult_delay_ms: 'consultDelayMs',
  slow_ms: 'slowMs',
  configs_shape: 'configsShape',
  operations_shape: 'operationsShape',
  insurance_active: 'insuranceActive',
  token_rps: 'tokenRps',
  login_failures_per_min: 'loginFailuresPerMinute',
  presenca_rpm: 'presencaRpm',
  presenca_token_ttl_s: 'presencaTokenTtlSeconds',
  presenca_expire_at: 'presencaExpireAt',
  presenca_sign_delay_ms: 'presencaSignDelayMs',
  presenca_unsigned: 'presencaUnsigned',
  presenca_margin_shape: 'presencaMarginShape',
  presenca_sign_glitch: 'presencaSignGlitch',
  presenca_self_sign: 'presencaSelfSign',
  reject_duplicate_simulations: 'rejectDuplicateSimulations',
  timeout_hold_ms: 'timeoutHoldMs',
  operation_delay_ms: 'operationDelayMs',
}

export function configView (c: SandboxConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { seed: c.seed }
  for (const [key, field] of Object.entries(CONFIG_KEYS)) out[key] = c[field]
  return out
}

function personView (p: Person, seed: number): Record<string, unknown> {
  return {
    cpf: p.cpf,
    nome: p.nome,
    telefone: p.telefone,
    email: p.email,
    data_nascimento: p.data_nascimento,
    sexo: p.sexo,
    scenario: p.scenario,
    margin: p.margin,
    installmentsMax: p.installmentsMax,
    pipelineId: p.pipelineId,
    opportunityId: p.opportunityId,
    cloneId: p.cloneId,
    v8Knows: p.v8Knows,
    v8Gender: p.v8Gender,
    /** What PresençaBank answers for this CPF (eligible, eligible_no_margin, not_eligible, cpf_not_found, no_links). */
    presenca: presencaProfile(seed, p.cpf).outcome,
  }
}

export function controlRoutes (app: FastifyInstance, state: SandboxState): void {
  const bad = (detail: string) => ({ error: 'bad_request', message: detail })
  const issues = (e: z.ZodError): string => e.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')

  /** GET /__sandbox/people */
  app.get(`${CONTROL_PREFIX}/people`, async (request, reply) => {
    const parsed = peopleQuery.safeParse(request.query ?? {})
    if (!parsed.success) return reply.code(400).send(bad(issues(parsed.error)))
    const { scenario, limit } = parsed.data
    // Whoever a caller is shown must be findable in the Kentro pipelines.
    state.kentroListed[scenario] = Math.max(state.kentroListed[scenario], limit)
    return { people: listPeople(state.config.seed, scenario, limit).map((p) => personView(p, state.config.seed)) }
  })

  /** GET /__sandbox/stats */
  app.get(`${CONTROL_PREFIX}/stats`, async () => ({ ...state.stats, faults_active: state.faults.length }))

  /** POST /__sandbox/reset */
  app.post(`${CONTROL_PREFIX}/reset`, async (request) => {
    const body = (request.body ?? {}) as { config?: unknown }
    state.reset(body.config === true)
    return { success: true, config: configView(state.config) }
  })

  /** POST /__sandbox/faults — one rule or an array of rules; replaces the active ones. */
  app.post(`${CONTROL_PREFIX}/faults`, async (request, reply) => {
    const parsed = z.union([faultRuleSchema, z.array(faultRuleSchema)]).safeParse(request.body ?? {})
    if (!parsed.success) return reply.code(400).send(bad(issues(parsed.error)))
    state.faults = (Array.isArray(parsed.data) ? parsed.data : [parsed.data]).map(toRule)
    return { success: true, faults: state.faults }
  })

  /** DELETE /__sandbox/faults */
  app.delete(`${CONTROL_PREFIX}/faults`, async () => {
    state.faults = []
    return { success: true }
  })

  /** GET /__sandbox/config */
  app.get(`${CONTROL_PREFIX}/config`, async () => configView(state.config))

  /** POST /__sandbox/config */
  app.post(`${CONTROL_PREFIX}/config`, async (request, reply) => {
    const parsed = configBody.safeParse(request.body ?? {})
    if (!parsed.success) return reply.code(400).send(bad(issues(parsed.error)))
    const next = { ...state.config } as Record<string, unknown>
    for (const [key, value] of Object.entries(parsed.data)) if (value !== undefined) next[CONFIG_KEYS[key as keyof typeof CONFIG_KEYS]] = value
    state.config = next as unknown as SandboxConfig
    return configView(state.config)
  })

  /** POST /__sandbox/presenca/sign {cpf} — the client opens the term's link and signs it (the newest term of the CPF). */
  app.post(`${CONTROL_PREFIX}/presenca/sign`, async (request, reply) => {
    const cpf = String((request.body as { cpf?: unknown } | undefined)?.cpf ?? '').replace(/\D/g, '')
    const term = signThroughLink(state, cpf)
    if (!term) return reply.code(404).send({ error: 'not_found', message: 'no term for this CPF' })
    return { success: true, autorizacaoId: term.autorizacaoId, signedAt: new Date(term.signedAt ?? state.now()).toISOString() }
  })

  /** POST /__sandbox/revoke-tokens — every V8 and PresençaBank token issued so far stops working (tests re-login). */
  app.post(`${CONTROL_PREFIX}/revoke-tokens`, async () => {
    const revoked = state.tokens.size + state.presencaTokens.size
    state.tokens.clear()
    state.presencaTokens.clear()
    return { success: true, revoked }
  })
}
