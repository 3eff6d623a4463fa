/** `tenant list`: every tenant of tenants/ with where it listens, config state, PM2 state, health, what is not set up, and why it is down. */
import { daemonRuntimeProblem, pm2List } from '../pm2.js'
import { tenantStatus, type TenantStatus } from '../status.js'
import { readTenants } from '../tenants.js'
import { defineCommand } from './command.js'

export const listCommand = defineCommand({
  name: 'list',
  usage: 'list',
  options: {},
  async run ({ root, out }) {
    const tenants = readTenants(root)
    if (tenants.length === 0) {
      out('No tenants yet: npm run tenant:add <PORT>')
      return 0
    }
    const procs = await pm2List()
    const daemon = daemonRuntimeProblem(procs)
    if (daemon) out(`PROBLEM: ${daemon}\n`)
    const statuses = await Promise.all(tenants.map((t) => tenantStatus(root, t, procs)))
    const rows = [['PORT', 'NAME', 'HOST', 'CONFIG', 'PM2', 'HEALTH', 'SETUP']]
    for (const s of statuses) {
      rows.push([String(s.port), s.name, s.host, s.config, s.pm2, s.health.reachable ? String(s.health.status) : 'down', setupText(s)])
    }
    out(formatTable(rows))
    for (const s of statuses) for (const p of s.problems) if (p !== daemon) out(`  ${s.port}: ${p}`)
    return 0
  },
})

/** "ready", or what is missing first, then the optional integrations that are off. */
export function setupText (s: TenantStatus): string {
  if (s.config !== 'ok') return '?'
  const off = s.off.map((o) => o.replace(/ (not set|off)$/, '')).map((o) => `no ${o}`)
  return [...(s.missing.length ? s.missing : ['ready']), ...off].join(', ')
}

export function formatTable (rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')
}
