/** The tenant config file's keys, defaults and validation: file text → zod → a typed, frozen object. */
import { isIP } from 'node:net'
import { z } from 'zod'
import { allowEntryProblem, parseAllowlist, urlProblem, URL_PROBLEM_TEXT, type UpstreamPolicy } from './address-policy.js'

export const REAL_V8_AUTH_URL = 'https://auth.v8sistema.com/oauth/token'
export const REAL_V8_API_URL = 'https://bff.v8sistema.com'
export const V8_AUDIENCE_DEFAULT = 'https://bff.v8sistema.com'
/** The public client id the V8 web app uses; every caller of the seed system shipped this one. */
export const V8_CLIENT_ID_DEFAULT = 'DHWogdaYmEI8n5bwwxPDzulMlSK7dwIn'
/** The one PresençaBank API host every public caller uses (no path prefix). */
export const REAL_PRESENCABANK_URL = 'https://presenca-bank-api.azurewebsites.net'

const port = z.coerce.number().int().min(1024, 'must be between 1024 and 65535').max(65535, 'must be between 1024 and 65535')
const url = z.string().trim().url('must be an http(s) URL').refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL')
const optionalText = z.string().trim().default('')
const intIn = (min: number, max: number, dflt: number) => z.coerce.number().int().min(min).max(max).default(dflt)
const idList = z
  .string()
  .trim()
  .regex(/^\d+(\s*,\s*\d+)*$/, 'must be a comma-separated list of numeric ids, e.g. 1,3,4')
  .transform((s) => s.split(',').map((x) => Number(x.trim())))

/** The keys holding an upstream URL: https and public unless the tenant file allows more (address-policy.ts). */
export const UPSTREAM_URL_KEYS = ['V8_AUTH_URL', 'V8_API_URL', 'KENTRO_API_URL', 'PRESENCABANK_URL'] as const

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal'])
const TRUST_PROXY_TRUE =
  'true is no longer accepted: it let any client choose its own address through X-Forwarded-For (bypassing the ' +
  'per-client limits and landing in the logs and the audit). Write the proxy\'s address or CIDR, e.g. ' +
  'TRUST_PROXY=127.0.0.1 (a proxy on this machine) or TRUST_PROXY=10.0.0.0/8, or the number of proxies in front, TRUST_PROXY=1'

/**
 * TRUST_PROXY: who may say, in X-Forwarded-For, which address a request came from: `false` (nobody: the socket's
 * address is the client), the proxies' addresses or CIDRs (loopback, linklocal, uniquelocal also accepted), or the
 * number of proxies in front. The client is the right-most address not trusted. `true` (trust anyone) is refused.
 * The tenants' files and the console's (config/console.ts) read it the same way; http/trust-proxy.ts applies it.
 */
export const trustProxySchema = z.string().trim().default('false').transform((v, ctx): false | number | string[] => {
  if (v === '' || v === 'false' || v === '0') return false
  if (v === 'true') {
    ctx.addIssue({ code: 'custom', message: TRUST_PROXY_TRUE })
    return z.NEVER
  }
  if (/^\d+$/.test(v)) {
    const hops = Number(v)
    if (hops > 10) ctx.addIssue({ code: 'custom', message: 'as a hop count must be between 1 and 10' })
    return hops
  }
  const list = v.split(',').map((x) => x.trim()).filter(Boolean)
  for (const entry of list) {
    if (!PROXY_KEYWORDS.has(entry) && (allowEntryProblem(entry) !== undefined || isIP(entry.split('/')[0]!) === 0)) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not an address, a CIDR or one of loopback, linklocal, uniquelocal` })
    }
  }
  return list
})
export type TrustProxy = z.output<typeof trustProxySchema>

/** The warning a hop count earns at load: anyone reaching the port directly can then choose their address. */
export function trustProxyWarning (value: TrustProxy): string | undefined {
  if (typeof value !== 'number') return undefined
  return `TRUST_PROXY=${value} trusts the last ${value} hop(s) whoever they are: a client reaching this ` +
    'port without the proxy can choose its own address. Prefer the proxy\'s address (e.g. TRUST_PROXY=127.0.0.1).'
}

const flag = z.enum(['true', 'false'], 'must be true or false').default('false').transform((v) => v === 'true')

export const configSchema = z.object({
  PORT: port,
  TENANT_NAME: z.string().trim().min(1).max(80).default('tenant'),
  API_KEY: z.string().trim().min(32, 'must be at least 32 characters (run npm run tenant:add <PORT> to generate one)'),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** files: rotated logs/out-<PORT>.log + logs/error-<PORT>.log (PM2); stdout: JSON lines (containers). */
  LOG_TARGET: z.enum(['files', 'stdout']).default('files'),
  /** Rotation of the log files: size of one file (MB) and how many old files are kept. */
  LOG_MAX_FILE_MB: intIn(1, 1024, 20),
  LOG_KEEP_FILES: intIn(1, 1000, 14),
  ENVIRONMENT: z.string().trim().min(1).default('production'),

  V8_AUTH_URL: url.default(REAL_V8_AUTH_URL),
  V8_API_URL: url.default(REAL_V8_API_URL),
  V8_CLIENT_ID: z.string().trim().min(1).default(V8_CLIENT_ID_DEFAULT),
  V8_AUDIENCE: z.string().trim().min(1).default(V8_AUDIENCE_DEFAULT),
  V8_USERNAME: optionalText,
  V8_PASSWORD: z.string().default(''),
  V8_PROVIDER: z.enum(['QI', 'CELCOIN']).default('QI'),
  V8_MAX_RPS: intIn(1, 1000, 10),
  /**
   * Which simulation table to try first: sem_seguro (tables without insurance; the default), com_seguro, or a
   * table's slug. The others follow; a table V8 refuses for this partner (e.g. insurance not active) is skipped.
   */
  V8_SIMULATION_TABLE: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9_-]*$/i, 'must be sem_seguro, com_seguro or a table slug')
    .default('sem_seguro'),

  KENTRO_API_URL: z.union([url, z.literal('')]).default(''),
  KENTRO_API_KEY: optionalText,
  KENTRO_QUEUE_ID: z.union([z.coerce.number().int().positive(), z.literal('').transform(() => undefined)]).optional(),
  KENTRO_PIPELINE_IDS: idList.default([1, 3, 4]),
  KENTRO_STAGE_ID: intIn(1, 1_000_000, 21),
  /**
   * The "simulated" stage per pipeline, `pipeline:stage` pairs (e.g. 1:4,3:31): Kentro cannot move an opportunity
   * to a stage of another pipeline (it answers 2xx and changes nothing, or refuses), so one KENTRO_STAGE_ID cannot
   * serve several pipelines. Pipelines not listed use KENTRO_STAGE_ID; stage 0 = leave that pipeline's stage alone.
   */
  KENTRO_STAGE_BY_PIPELINE: z
    .string()
    .trim()
    .regex(/^(\d+\s*:\s*\d+(\s*,\s*\d+\s*:\s*\d+)*)?$/, 'must be pipeline:stage pairs, e.g. 1:4,3:31')
    .default('')
    // Kept as (normalized) text so the config round-trips through its file form; read with stageOfPipeline().
    .transform((s) => s.replace(/\s+/g, '')),
  /**
   * formsdata key holding the borrower's gender (M/F) in this tenant's Kentro forms, when it has one. Empty by
   * default: no public Kentro form has a gender field.
   */
  KENTRO_GENDER_FIELD: z.string().trim().default(''),
  /**
   * The gender this tenant DECLARES for consults when neither the request, the CRM nor V8 knows it (V8 requires
   * one). Empty = none declared: the flow answers 422 dados_faltantes listing `sexo`. Recorded as padrao_tenant.
   */
  DEFAULT_GENDER: z
    .string()
    .trim()
    .toUpperCase()
    .pipe(z.enum(['M', 'F', ''], { message: 'must be M, F or empty' }))
    .default(''),
  /** Tag id written on an opportunity once it has been simulated; 0 = write no tag. */
  KENTRO_TAG_ID: intIn(0, 1_000_000, 0),

  /** Blank means the real host; the block is off until a login and password are set. */
  PRESENCABANK_URL: z.union([url, z.literal('').transform(() => REAL_PRESENCABANK_URL)]).default(REAL_PRESENCABANK_URL),
  PRESENCABANK_LOGIN: optionalText,
  PRESENCABANK_PASSWORD: z.string().default(''),
  /** Calls per minute to PresençaBank from this tenant (its documented limit is about 30 per login), evenly spaced. */
  PRESENCABANK_MAX_RPM: intIn(1, 600, 30),
  /**
   * "latitude,longitude" of the office whose server signs consult terms (the signing call's device information).
   * Empty = not declared: sent as 0,0, never a made-up place.
   */
  PRESENCABANK_GEOLOCATION: z
    .string()
    .trim()
    .regex(/^$|^-?\d{1,2}(\.\d+)?\s*,\s*-?\d{1,3}(\.\d+)?$/, 'must be "latitude,longitude", e.g. -23.5505,-46.6333')
    .default(''),

  /** Written by `tenant:add --sandbox`: upstream URLs may point at loopback (the simulated upstreams), over http. */
  SANDBOX: flag,
  /** Comma-separated hosts (`.example.com` = the domain and its subdomains), addresses or CIDRs the operator lets
   * upstream URLs reach even when private or plain http. Never settable from the API. */
  UPSTREAM_ALLOWLIST: z
    .string()
    .trim()
    .default('')
    .transform(parseAllowlist)
    .superRefine((list, ctx) => {
      for (const entry of list) {
        const problem = allowEntryProblem(entry)
        if (problem) ctx.addIssue({ code: 'custom', message: problem })
      }
    }),

  BATCH_CONCURRENCY: intIn(1, 64, 4),
  BATCH_MAX_ITEMS: intIn(1, 100_000, 5000),
  BATCH_RETENTION_DAYS: intIn(1, 3650, 30),
  /** Per rolling 24 h: batches created, and CPFs in them (invalid ones too: each is stored for BATCH_RETENTION_DAYS). */
  BATCHES_PER_DAY: intIn(1, 100_000, 50),
  BATCH_ITEMS_PER_DAY: intIn(1, 10_000_000, 20_000),
  /** CPFs of batches waiting or running at once. */
  BATCH_MAX_PENDING_ITEMS: intIn(1, 10_000_000, 20_000),
  /** Open /clt/lotes/:id/eventos streams: per tenant, and per client address. */
  EVENT_STREAMS_MAX: intIn(1, 100_000, 200),
  EVENT_STREAMS_PER_ADDRESS: intIn(1, 100_000, 20),
  FLOW_WAIT_SECONDS: intIn(0, 120, 20),
  CACHE_TTL_HOURS: intIn(1, 24 * 30, 24),
  /** Comma-separated origins allowed by CORS; empty = CORS off. */
  CORS_ORIGINS: z
    .string()
    .trim()
    .default('')
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean)),
  /** Wrong API keys (and, counted apart, metrics tokens) one address may send per minute; then 429 for AUTH_LOCKOUT_SECONDS. */
  AUTH_FAILURES_PER_MINUTE: intIn(1, 100_000, 10),
  AUTH_LOCKOUT_SECONDS: intIn(1, 86_400, 60),
  /** Per-client requests per minute on the API (0 = no limit). */
  RATE_LIMIT_PER_MINUTE: intIn(0, 1_000_000, 600),
  TRUST_PROXY: trustProxySchema,

  /**
   * How V8 reaches this tenant (e.g. https://clt.example.com.br/6000): set → the consult and operation webhooks are
   * registered with V8 at start and on every change, under an unguessable per-tenant path. Empty = polling only.
   */
  PUBLIC_URL: z.union([url, z.literal('')]).default(''),
  /** Where flow results, batch completions and proposal status changes are POSTed, signed; empty = no callbacks. */
  CALLBACK_URL: z.union([url, z.literal('')]).default(''),
  /** HMAC-SHA256 key of the callbacks' X-CLT-V8-Signature (tenant:add generates one); required with CALLBACK_URL. */
  CALLBACK_SECRET: z.string().trim().default(''),
  /** Delivery attempts of one callback before it is marked dead (retries back off exponentially, up to an hour apart). */
  CALLBACK_MAX_ATTEMPTS: intIn(1, 50, 12),
  /**
   * Kentro stage an opportunity moves to when its proposal reaches a status, e.g. `formalization:22,paid:30,canceled:31`.
   * Stages of the pipeline the tenant's opportunities are in (Kentro cannot move one across pipelines).
   */
  KENTRO_STAGE_BY_STATUS: z
    .string()
    .trim()
    .regex(/^([a-z_]+\s*:\s*\d+(\s*,\s*[a-z_]+\s*:\s*\d+)*)?$/, 'must be status:stage pairs, e.g. formalization:22,paid:30')
    .default(''),
  /**
   * Nationality this tenant declares for proposals when the request does not say (V8 wants one; callers send
   * `brazilian`). Empty = none declared: a proposal without `nacionalidade` gets 422 dados_faltantes.
   */
  DEFAULT_NATIONALITY: z.string().trim().max(40).default(''),
  /**
   * Bearer token Prometheus sends to GET /metrics (npm run tenant:prometheus writes the fleet's). Empty = no metrics
   * endpoint (404). Not the API key: a scraper must not be able to call the API.
   */
  METRICS_TOKEN: z.union([z.literal(''), z.string().trim().min(32, 'must be at least 32 characters (npm run tenant:prometheus -- --set-token generates one)')]).default(''),
}).superRefine((c, ctx) => {
  for (const key of UPSTREAM_URL_KEYS) {
    const problem = c[key] === '' ? undefined : urlProblem(c[key], upstreamPolicy(c))
    if (problem) ctx.addIssue({ code: 'custom', path: [key], message: URL_PROBLEM_TEXT[problem] })
  }
  // The client's callback URL receives signed data from this host: the same policy as the upstreams' URLs.
  const callbackProblem = c.CALLBACK_URL === '' ? undefined : urlProblem(c.CALLBACK_URL, upstreamPolicy(c))
  if (callbackProblem) ctx.addIssue({ code: 'custom', path: ['CALLBACK_URL'], message: URL_PROBLEM_TEXT[callbackProblem] })
  if (c.CALLBACK_URL !== '' && c.CALLBACK_SECRET.length < 32) {
    ctx.addIssue({ code: 'custom', path: ['CALLBACK_SECRET'], message: 'must be at least 32 characters when CALLBACK_URL is set (run npm run tenant:add or generate one)' })
  }
})

export type TenantConfig = Readonly<z.output<typeof configSchema>>
export type ConfigKey = keyof z.input<typeof configSchema>
export const CONFIG_KEYS = Object.keys(configSchema.shape) as ConfigKey[]

/** Keys whose values are secrets: masked on every read, redacted in every log line. */
export const SECRET_KEYS: readonly ConfigKey[] = ['API_KEY', 'V8_PASSWORD', 'KENTRO_API_KEY', 'PRESENCABANK_PASSWORD', 'CALLBACK_SECRET', 'METRICS_TOKEN']

/**
 * Key names of the seed system (the per-port server-XXXX.js setup) and what they mean here.
 * `null` = known but not used any more (accepted silently, never an error).
 */
export const SEED_KEYS: Readonly<Record<string, ConfigKey | null>> = {
  NODE_ENV: null,
  LOG_FILE: null,
  KENTRO_TOKEN: null,
  V8_BASE_URL: 'V8_API_URL',
  V8_TOKEN_URL: 'V8_AUTH_URL',
}

/** Where this tenant's upstream calls may go, from its file (SANDBOX, UPSTREAM_ALLOWLIST). */
export function upstreamPolicy (c: { SANDBOX: boolean; UPSTREAM_ALLOWLIST: readonly string[] }): UpstreamPolicy {
  return { sandbox: c.SANDBOX, allow: c.UPSTREAM_ALLOWLIST }
}

/** KENTRO_STAGE_BY_PIPELINE's stage for `pipeline`, or undefined when the pipeline is not listed. */
export function stageOfPipeline (config: TenantConfig, pipeline: number): number | undefined {
  const pair = config.KENTRO_STAGE_BY_PIPELINE.split(',').find((p) => p.split(':')[0] === String(pipeline))
  return pair === undefined ? undefined : Number(pair.split(':')[1])
}

export function v8Configured (config: TenantConfig): boolean {
  return config.V8_USERNAME !== '' && config.V8_PASSWORD !== ''
}

export function kentroConfigured (config: TenantConfig): boolean {
  return config.KENTRO_API_URL !== '' && config.KENTRO_API_KEY !== '' && config.KENTRO_QUEUE_ID !== undefined
}

/** KENTRO_STAGE_BY_STATUS as a map: proposal status → Kentro stage id. */
export function stageByStatus (config: TenantConfig): Readonly<Record<string, number>> {
  const pairs = config.KENTRO_STAGE_BY_STATUS.split(',').filter((p) => p.trim() !== '').map((p) => p.split(':').map((x) => x.trim()))
  return Object.fromEntries(pairs.map(([status, stage]) => [status!, Number(stage)]))
}

/** V8 can deliver webhooks to this tenant: a public URL and a V8 login to register them with. */
export function webhooksConfigured (config: TenantConfig): boolean {
  return config.PUBLIC_URL !== '' && v8Configured(config)
}

export function presencaConfigured (config: TenantConfig): boolean {
  return config.PRESENCABANK_LOGIN !== '' && config.PRESENCABANK_PASSWORD !== ''
}
