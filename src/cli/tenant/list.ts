/** `tenant list`: every tenant of tenants/ with its name, config state, PM2 state and health. */
import { appName } from '../ecosystem.js'
import { probeHealth } from '../net.js'
import { pm2DaemonRunning, pm2List } from '../pm2.js'
import { readTenants } from '../tenants.js'
import { defineCommand } from './command.js'

export const listCommand = defineCommand({
  name: 'list',
  usage: 'list',
  options: {},
  async run ({ root, out }) {
    const tenants = readTenants(root)
    const procs = await pm2List()
    const rows = [['PORT', 'NAME', 'CONFIG', 'PM2', 'HEALTH']]
    for (const t of tenants) {
      const proc = procs.find((p) => p.name === appName(t.port))
      const health = await probeHealth(t.port, 800)
      rows.push([
        String(t.port),
        t.loaded?.config.TENANT_NAME ?? '?',
        t.loaded ? (t.loaded.warnings.length ? `ok (${t.loaded.warnings.length} note(s))` : 'ok') : 'INVALID',
        proc ? `${proc.status}${proc.restarts ? ` (${proc.restarts} restarts)` : ''}` : pm2DaemonRunning() ? 'not in pm2' : 'pm2 not running',
        health.reachable ? String(health.status) : 'down',
      ])
    }
    if (tenants.length === 0) out('No tenants yet: npm run tenant:add <PORT>')
    else out(formatTable(rows))
    for (const t of tenants) if (t.error) out(`  ${t.error}`)
    return 0
  },
})

export function formatTable (rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')
}
