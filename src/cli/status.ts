/** One tenant's state as an operator needs it: config, PM2 state and why it is not running, health, what is not set up. */
import fs from 'node:fs'
import { tenantPaths } from '../config/paths.js'
import { kentroConfigured, presencaConfigured, v8Configured } from '../config/schema.js'
import { appName } from './ecosystem.js'
import { probeHealth, reachHost, type HealthProbe } from './net.js'
import { daemonRuntimeProblem, pm2DaemonRunning, type Pm2Process } from './pm2.js'
import type { TenantEntry } from './tenants.js'

export interface TenantStatus {
  port: number
  name: string
  /** Where it listens (HOST of its file), '?' when the file does not load. */
  host: string
  config: 'ok' | 'INVALID'
  /** `online`, `errored (5 restarts)`, `stopped`, `not in pm2`, `pm2 not running`. */
  pm2: string
  health: HealthProbe
  /** What is not set up yet, e.g. "V8 login not set" (the flow cannot run without it). */
  missing: string[]
  /** Optional integrations that are off (noted, not a problem). */
  off: string[]
  /** Why it is not answering or not usable, one line each (config error, the process's last words, the PM2 daemon's Node). */
  problems: string[]
}

export async function tenantStatus (root: string, t: TenantEntry, procs: readonly Pm2Process[], timeoutMs = 800): Promise<TenantStatus> {
  const config = t.loaded?.config
  const proc = procs.find((p) => p.name === appName(t.port))
  const host = config?.HOST ?? '?'
  const health = await probeHealth(t.port, timeoutMs, reachHost(config?.HOST))
  const problems: string[] = []
  if (t.error) problems.push(t.error)
  const pm2State = proc ? `${proc.status}${proc.restarts ? ` (${proc.restarts} restarts)` : ''}` : pm2DaemonRunning() ? 'not in pm2' : 'pm2 not running'
  if (proc && proc.status !== 'online') {
    const daemon = daemonRuntimeProblem(procs)
    if (daemon) problems.push(daemon)
    const last = lastWords(tenantPaths(root, t.port).pm2Log)
    if (last && !problems.some((p) => last.includes(p))) problems.push(`its last start said: ${last}`)
  } else if (proc && !health.reachable) {
    problems.push('PM2 says online but /health does not answer (starting, or stuck): see logs/pm2-' + t.port + '.log and logs/error-' + t.port + '.log')
  }
  const missing: string[] = []
  const off: string[] = []
  if (config) {
    if (!v8Configured(config)) missing.push('V8 login not set')
    if (!kentroConfigured(config)) off.push('Kentro not set')
    if (!presencaConfigured(config)) off.push('PresençaBank off')
  }
  return { port: t.port, name: config?.TENANT_NAME ?? '?', host, config: config ? 'ok' : 'INVALID', pm2: pm2State, health, missing, off, problems }
}

/** The last line the process wrote about giving up (`clt-v8: …`) in logs/pm2-<PORT>.log, without PM2's timestamp. */
export function lastWords (file: string): string | undefined {
  let text: string
  try {
    const fd = fs.openSync(file, 'r')
    try {
      const size = fs.fstatSync(fd).size
      const len = Math.min(size, 16 * 1024)
      const buf = Buffer.alloc(len)
      fs.readSync(fd, buf, 0, len, size - len)
      text = buf.toString('utf8')
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    return undefined
  }
  const line = text.split('\n').reverse().find((l) => l.includes('clt-v8: '))
  return line?.slice(line.indexOf('clt-v8: ') + 'clt-v8: '.length).trim()
}
