/**
 * What the console shows of each tenant, gathered as the CLI sees it: the tenants/ files (name, address, whether a
 * V8 login is set; no secret value is kept), PM2's state (pm2-rpc.ts), the tenant's own /health, and when its error
 * log was last written. In Kubernetes a fleet file (rendered by tenant:k8s) replaces tenants/ and PM2.
 */
import fs from 'node:fs'
import path from 'node:path'
import { request } from 'undici'
import { z } from 'zod'
import { tenantPaths } from '../config/paths.js'
import { isBadPort } from '../cli/bad-ports.js'
import { appName } from '../cli/ecosystem.js'
import { readTenants } from '../cli/tenants.js'
import { reachHost } from '../cli/net.js'
import type { Pm2State } from './pm2-rpc.js'

/** One tenant as the console page and GET /api/tenants show it (JSON field names in English: an operator's tool). */
export interface TenantRow {
  port: number
  name: string
  /** Where the console reaches it (host:port). */
  target: string
  config: 'ok' | 'invalid' | 'unknown'
  config_error: string | null
  /** online, stopped, errored, launching… ; 'not in pm2', 'pm2 not running', or 'n/a' (Kubernetes). */
  pm2: string
  restarts: number | null
  /** OK, DEGRADED (its database), or down (no answer). */
  health: 'OK' | 'DEGRADED' | 'down'
  uptime_s: number | null
  v8_login: boolean | null
  token: { cached: boolean; age_s: number | null; expires_in: number | null } | null
  batches: { running: number; pending: number } | null
  last_error_at: string | null
  /** Browsers refuse this port (ERR_UNSAFE_PORT): open its pages through the console only. */
  bad_port: boolean
  /** Console-relative links to its pages. */
  links: { page: string; docs: string }
}

/** Where a tenant answers, as the console proxies to it. */
export interface TenantTarget {
  port: number
  origin: string
}

export interface FleetSource {
  rows(): Promise<TenantRow[]>
  /** The tenant on this port, or undefined: the proxy forwards only to tenants of the fleet. */
  target(port: number): TenantTarget | undefined
}

type Health = {
  status?: unknown
  uptime?: unknown
  tenant?: unknown
  checks?: { v8_token?: { cached?: unknown; expires_in?: unknown; obtained_at?: unknown }; batches?: { running?: unknown; pending?: unknown }; integrations?: { v8?: { configured?: unknown } } }
}

async function probe (origin: string, timeoutMs: number): Promise<Health | undefined> {
  try {
    const res = await request(`${origin}/health`, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } })
    const body = (await res.body.json()) as Health
    return body && typeof body === 'object' ? body : undefined
  } catch {
    return undefined
  }
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** The /health part of a row. */
function healthPart (h: Health | undefined, now: number): Pick<TenantRow, 'health' | 'uptime_s' | 'token' | 'batches'> & { v8?: boolean } {
  if (!h) return { health: 'down', uptime_s: null, token: null, batches: null }
  const t = h.checks?.v8_token
  const obtained = typeof t?.obtained_at === 'string' ? Date.parse(t.obtained_at) : NaN
  const b = h.checks?.batches
  const v8 = h.checks?.integrations?.v8?.configured
  return {
    health: h.status === 'OK' ? 'OK' : 'DEGRADED',
    uptime_s: num(h.uptime),
    token: t ? { cached: t.cached === true, age_s: Number.isFinite(obtained) ? Math.max(0, Math.round((now - obtained) / 1000)) : null, expires_in: num(t.expires_in) } : null,
    batches: b ? { running: num(b.running) ?? 0, pending: num(b.pending) ?? 0 } : null,
    ...(typeof v8 === 'boolean' ? { v8 } : {}),
  }
}

/** When the tenant last wrote an error line: the newest non-empty file of logs/<PORT>/error*.log. */
function lastErrorAt (root: string, port: number): string | null {
  const dir = path.join(tenantPaths(root, port).logsDir, String(port))
  let newest = 0
  try {
    for (const f of fs.readdirSync(dir)) {
      if (!/^error(-.+)?\.log$/.test(f)) continue
      const st = fs.statSync(path.join(dir, f))
      if (st.size > 0 && st.mtimeMs > newest) newest = st.mtimeMs
    }
  } catch {
    return null
  }
  return newest > 0 ? new Date(newest).toISOString() : null
}

/** Relative to the console page; /docs/ with its slash: Swagger UI then loads its assets relative to itself. */
const links = (port: number): TenantRow['links'] => ({ page: `t/${port}/config-v8`, docs: `t/${port}/docs/` })

export interface LocalFleetOptions {
  root: string
  /** PM2's processes, or undefined when no daemon runs. */
  pm2List: () => Promise<Pm2State[] | undefined>
  healthTimeoutMs?: number
  now?: () => number
}

/** The fleet of this machine: tenants/ + PM2 + /health. */
export class LocalFleet implements FleetSource {
  readonly #opts: Required<LocalFleetOptions>
  #targets = new Map<number, TenantTarget>()

  constructor (opts: LocalFleetOptions) {
    this.#opts = { healthTimeoutMs: 800, now: Date.now, ...opts }
    this.#refreshTargets()
  }

  #refreshTargets (): ReturnType<typeof readTenants> {
    const tenants = readTenants(this.#opts.root)
    this.#targets = new Map(tenants.map((t) => [t.port, { port: t.port, origin: `http://${reachHost(t.loaded?.config.HOST)}:${t.port}` }]))
    return tenants
  }

  target (port: number): TenantTarget | undefined {
    // A tenant added after the console started is found on its first request.
    if (!this.#targets.has(port) && fs.existsSync(tenantPaths(this.#opts.root, port).configFile)) this.#refreshTargets()
    return this.#targets.get(port)
  }

  async rows (): Promise<TenantRow[]> {
    const tenants = this.#refreshTargets()
    const procs = await this.#opts.pm2List().catch(() => undefined)
    const now = this.#opts.now()
    return Promise.all(tenants.map(async (t): Promise<TenantRow> => {
      const target = this.#targets.get(t.port)!
      const config = t.loaded?.config
      const proc = procs?.find((p) => p.name === appName(t.port))
      const h = healthPart(await probe(target.origin, this.#opts.healthTimeoutMs), now)
      return {
        port: t.port,
        name: config?.TENANT_NAME ?? '?',
        target: target.origin.replace(/^http:\/\//, ''),
        config: config ? 'ok' : 'invalid',
        config_error: t.error ?? null,
        pm2: proc ? proc.status : procs === undefined ? 'pm2 not running' : 'not in pm2',
        restarts: proc ? proc.restarts : null,
        health: h.health,
        uptime_s: h.uptime_s,
        // The file says whether a login is set; only that boolean is kept.
        v8_login: config ? config.V8_USERNAME !== '' && config.V8_PASSWORD !== '' : (h.v8 ?? null),
        token: h.token,
        batches: h.batches,
        last_error_at: lastErrorAt(this.#opts.root, t.port),
        bad_port: isBadPort(t.port),
        links: links(t.port),
      }
    }))
  }
}

/** The fleet file tenant:k8s renders for the console in a cluster: each tenant's port, name and Service URL. */
export const fleetFileSchema = z.object({
  tenants: z.array(z.object({
    port: z.number().int().min(1024).max(65535),
    name: z.string().min(1).max(80),
    url: z.string().regex(/^http:\/\/[a-z0-9.-]+(:\d+)?$/, 'must be http://<service>:<port>'),
  })).max(10_000),
})
export type FleetFile = z.infer<typeof fleetFileSchema>

/** The fleet file, read and checked: a clear error naming the file and what is wrong in it. */
function readFleetFile (file: string): FleetFile {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new Error(`fleet file ${file}: cannot be read (${(err as Error).message})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new Error(`fleet file ${file}: not JSON (${(err as Error).message})`)
  }
  const parsed = fleetFileSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new Error(`fleet file ${file}: ${issue.path.length ? issue.path.join('.') : '(the file)'} ${issue.message.replace(/^Invalid input: /, '')}`)
  }
  return parsed.data
}

/**
 * The fleet listed in a file (Kubernetes): no PM2; name from the file, the rest from each tenant's /health. The file
 * is read once, here: it is a ConfigMap whose hash is in the pod template (cli/k8s/console.ts), so a changed fleet
 * rolls the pod rather than being re-read, and a bad file fails the start, not a visitor's request.
 */
export class FileFleet implements FleetSource {
  readonly #tenants: FleetFile['tenants']
  readonly #targets: Map<number, TenantTarget>
  readonly #timeoutMs: number
  readonly #now: () => number

  constructor (file: string, opts: { healthTimeoutMs?: number; now?: () => number } = {}) {
    this.#tenants = readFleetFile(file).tenants
    this.#targets = new Map(this.#tenants.map((t) => [t.port, { port: t.port, origin: t.url }]))
    this.#timeoutMs = opts.healthTimeoutMs ?? 800
    this.#now = opts.now ?? Date.now
  }

  target (port: number): TenantTarget | undefined {
    return this.#targets.get(port)
  }

  async rows (): Promise<TenantRow[]> {
    const now = this.#now()
    return Promise.all(this.#tenants.map(async (t): Promise<TenantRow> => {
      const h = healthPart(await probe(t.url, this.#timeoutMs), now)
      return {
        port: t.port,
        name: t.name,
        target: t.url.replace(/^http:\/\//, ''),
        config: 'unknown',
        config_error: null,
        pm2: 'n/a',
        restarts: null,
        health: h.health,
        uptime_s: h.uptime_s,
        v8_login: h.v8 ?? null,
        token: h.token,
        batches: h.batches,
        last_error_at: null,
        bad_port: isBadPort(t.port),
        links: links(t.port),
      }
    }))
  }
}
