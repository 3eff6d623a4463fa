/**
 * The sandbox's whole in-memory state (config, tokens, consults, CRM edits, counters, faults) and its reset.
 * Over 300 lines on purpose: the one place every simulated upstream reads and writes, kept whole so reset is complete.
 */
import { prng } from './random.js'
import { SCENARIOS, type Scenario } from './population.js'
import type { FaultRule } from './faults.js'

export interface SandboxConfig {
  /** Seeds the population and the fault dice. */
  seed: number
  tokenTtlSeconds: number
  consultDelayMs: number
  slowMs: number
  configsShape: 'object' | 'array'
  operationsShape: 'data' | 'items' | 'array'
  /** Whether this partner's provider has insurance active: if not, insured tables answer provider_does_not_have_insurance_active. */
  insuranceActive: boolean
  /** Token requests per second before 429 too_many_requests; 0 = unlimited. */
  tokenRps: number
  /** Failed logins per user per minute before 429 too_many_attempts; 0 = never block. */
  loginFailuresPerMinute: number
  /** PresençaBank requests per login per minute before 429. */
  presencaRpm: number
  /** PresençaBank token lifetime (callers saw about 10 h). */
  presencaTokenTtlSeconds: number
  /** How the login states expireAt: ISO with Z, ISO without an offset, or not at all. */
  presencaExpireAt: 'iso' | 'naive' | 'none'
  /** After a term is signed, consultar-vinculos still refuses it for this long (real callers wait tens of seconds). */
  presencaSignDelayMs: number
  /** The refusal without a signed term: 400 {message}, 400 {errors, errorCodes} or a bare 403. */
  presencaUnsigned: 'message' | 'codes' | '403'
  /** consultar-margem answers an object, an array, or alternates per CPF. */
  presencaMarginShape: 'object' | 'array' | 'alternate'
  /** The signing PUT signs, then answers the known 500 "An error ocurred". */
  presencaSignGlitch: boolean
  /** The login may sign terms itself (PUT); when false the PUT answers 403 and only the client's link signs. */
  presencaSelfSign: boolean
  /** How many people per scenario the Kentro pipelines hold at least (grows with /__sandbox/people). */
  kentroPeoplePerScenario: number
  /** Answer simulation_already_exists to an identical second simulation of a consult. */
  rejectDuplicateSimulations: boolean
  /** How long a 'timeout' fault holds a request before dropping it. */
  timeoutHoldMs: number
  /** How long an operation stays in each automatic step (generating_ccb → formalization; signed → analysis → processing → paid). */
  operationDelayMs: number
}

export const DEFAULT_CONFIG: SandboxConfig = {
  seed: 8,
  tokenTtlSeconds: 86_400,
  consultDelayMs: 300,
  slowMs: 30_000,
  configsShape: 'object',
  operationsShape: 'array',
  insuranceActive: false,
  tokenRps: 0,
  loginFailuresPerMinute: 20,
  presencaRpm: 30,
  presencaTokenTtlSeconds: 36_000,
  presencaExpireAt: 'iso',
  presencaSignDelayMs: 300,
  presencaUnsigned: 'message',
  presencaMarginShape: 'alternate',
  presencaSignGlitch: false,
  presencaSelfSign: true,
  kentroPeoplePerScenario: 50,
  rejectDuplicateSimulations: false,
  timeoutHoldMs: 60_000,
  operationDelayMs: 300,
}

export interface TokenEntry {
  user: string
  expiresAt: number
}

export interface ConsultOutcome {
  status: 'SUCCESS' | 'REJECTED'
  description: string | null
  margin: string
  installmentsMax: number
}

export interface Consult {
  id: string
  user: string
  cpf: string
  name: string
  birthDate: string
  gender: string
  /** DDD + number, as the consult was signed. */
  phone: string
  provider: string
  partnerId: string
  createdAt: number
  authorizedAt: number | null
  /** When the consult reaches its outcome; fixed at authorize time. */
  finalAt: number | null
  /** Until when it shows CONSENT_APPROVED before WAITING_CONSULT. */
  approvedUntil: number | null
  /** From when a consult that will succeed shows WAITING_CREDIT_ANALYSIS with its margin (the last half of consultDelayMs). */
  analysisFrom: number | null
  outcome: ConsultOutcome
  /** A `slow` scenario consult: waits slowMs instead of consultDelayMs after authorize. */
  slow: boolean
}

/** A proposal made through POST /private-consignment/operation; its status is the last timeline step due. */
export interface OperationRecord {
  id: string
  user: string
  cpf: string
  name: string
  provider: string
  simulationId: string
  consultId: string
  simulation: Record<string, unknown>
  borrower: Record<string, unknown>
  formalizationUrl: string
  contractNumber: string
  createdAt: number
  /** Status steps with the time each takes effect; controls and actions append. */
  timeline: Array<{ at: number; status: string; description: string }>
  documents: number
}

export interface WebhookFaults {
  /** Share of events never delivered (0..1), and a count of the next events to drop regardless. */
  dropRate: number
  dropNext: number
  /** Share of events delivered twice, and a count of the next ones to duplicate. */
  duplicateRate: number
  duplicateNext: number
  /** Wait before each delivery. */
  delayMs: number
}

/** One event the sandbox sent (or dropped) to a registered URL. */
export interface SentEvent {
  seq: number
  user: string
  url: string
  payload: Record<string, unknown>
  /** delivered, dropped, failed (every attempt refused), pending. */
  result: 'pending' | 'delivered' | 'dropped' | 'failed'
  attempts: number
  lastStatus: number | null
  duplicated: boolean
  at: number
}

export interface SimulationRecord {
  key: string
  body: Record<string, unknown>
}

export interface Stats {
  routes: Record<string, number>
  tokens_issued: number
  tokens_by_user: Record<string, number>
  login_failures: number
  consults_created: number
  consults_by_cpf: Record<string, number>
  authorizations: number
  simulations_created: number
  kentro_writes: number
  presenca_calls: number
  presenca_logins: number
  presenca_login_failures: number
  presenca_terms_created: number
  presenca_terms_by_cpf: Record<string, number>
  presenca_terms_signed: number
  presenca_rate_limited: number
  faults_injected: number
  webhooks_registered: number
  webhook_deliveries: number
  operations_created: number
  operations_by_cpf: Record<string, number>
  operations_canceled: number
}

export interface PresencaTerm {
  autorizacaoId: string
  cpf: string
  telefone: string
  createdAt: number
  /** null until the PUT (or the client through the link) signs it. */
  signedAt: number | null
}

function emptyStats (): Stats {
  return {
    routes: {},
    tokens_issued: 0,
    tokens_by_user: {},
    login_failures: 0,
    consults_created: 0,
    consults_by_cpf: {},
    authorizations: 0,
    simulations_created: 0,
    kentro_writes: 0,
    presenca_calls: 0,
    presenca_logins: 0,
    presenca_login_failures: 0,
    presenca_terms_created: 0,
    presenca_terms_by_cpf: {},
    presenca_terms_signed: 0,
    presenca_rate_limited: 0,
    faults_injected: 0,
    webhooks_registered: 0,
    webhook_deliveries: 0,
    operations_created: 0,
    operations_by_cpf: {},
    operations_canceled: 0,
  }
}

export function noWebhookFaults (): WebhookFaults {
  return { dropRate: 0, dropNext: 0, duplicateRate: 0, duplicateNext: 0, delayMs: 0 }
}

export class SandboxState {
  config: SandboxConfig
  readonly initialConfig: SandboxConfig
  readonly now: () => number
  tokens = new Map<string, TokenEntry>()
  /** user → consult id → consult (each V8 login sees only its own). */
  consults = new Map<string, Map<string, Consult>>()
  /** consult id → simulations made on it. */
  simulations = new Map<string, SimulationRecord[]>()
  /** Kentro edits over the generated opportunities, and opportunities created through the API. */
  kentroEdits = new Map<number, Record<string, unknown>>()
  kentroCreated = new Map<number, Record<string, unknown>>()
  kentroNextId = 90_000_000
  /** Population size visible in the Kentro pipelines; only grows, survives reset (it is population, not state). */
  kentroListed: Record<Scenario, number>
  presencaTokens = new Map<string, { login: string; expiresAt: number }>()
  /** autorizacaoId → term; a CPF may have several (each creation makes a new one). */
  presencaTerms = new Map<string, PresencaTerm>()
  /** Phone → the CPF whose term used it first (a phone belongs to one client). */
  presencaPhones = new Map<string, string>()
  /** Requests per login in the current minute. */
  presencaWindows = new Map<string, { minute: number; count: number }>()
  tokenWindow = { second: 0, count: 0 }
  loginFailures = new Map<string, { minute: number; count: number }>()
  faults: FaultRule[] = []
  faultRandom: () => number
  stats: Stats = emptyStats()
  /** user → kind (consult | operation) → registered URL. */
  webhooks = new Map<string, Partial<Record<'consult' | 'operation', string>>>()
  webhookFaults: WebhookFaults = noWebhookFaults()
  webhookRandom: () => number
  sentEvents: SentEvent[] = []
  /** consult id / operation id → the last status an event was sent for. */
  notified = new Map<string, string>()
  operations = new Map<string, OperationRecord>()

  constructor (config: SandboxConfig, now: () => number) {
    this.config = { ...config }
    this.initialConfig = { ...config }
    this.now = now
    this.faultRandom = prng(config.seed)
    this.webhookRandom = prng(config.seed + 1)
    this.kentroListed = Object.fromEntries(SCENARIOS.map((s) => [s, config.kentroPeoplePerScenario])) as Record<Scenario, number>
  }

  /** Forget every token, consult, edit, counter and fault; the config stays unless `config` is true. */
  reset (config = false): void {
    if (config) this.config = { ...this.initialConfig }
    this.tokens.clear()
    this.consults.clear()
    this.simulations.clear()
    this.kentroEdits.clear()
    this.kentroCreated.clear()
    this.kentroNextId = 90_000_000
    this.presencaTokens.clear()
    this.presencaTerms.clear()
    this.presencaPhones.clear()
    this.presencaWindows.clear()
    this.tokenWindow = { second: 0, count: 0 }
    this.loginFailures.clear()
    this.faults = []
    this.faultRandom = prng(this.config.seed)
    this.stats = emptyStats()
    this.webhooks.clear()
    this.webhookFaults = noWebhookFaults()
    this.webhookRandom = prng(this.config.seed + 1)
    this.sentEvents = []
    this.notified.clear()
    this.operations.clear()
  }

  consultsOf (user: string): Map<string, Consult> {
    let mine = this.consults.get(user)
    if (!mine) {
      mine = new Map()
      this.consults.set(user, mine)
    }
    return mine
  }

  count (key: 'tokens_by_user' | 'consults_by_cpf' | 'routes' | 'presenca_terms_by_cpf' | 'operations_by_cpf', name: string): void {
    const table = this.stats[key]
    table[name] = (table[name] ?? 0) + 1
  }
}
