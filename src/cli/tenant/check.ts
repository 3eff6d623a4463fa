/**
 * `tenant check <PORT>`: validate the tenant's file, name what is not set up, ask PM2 and /health. Exits 1 when the
 * tenant is invalid, down, not online in PM2, unhealthy or without its V8 login, so scripts and monitors can use it.
 */
import { CliError } from '../errors.js'
import { daemonRuntimeProblem, pm2List } from '../pm2.js'
import { tenantStatus } from '../status.js'
import { readTenants } from '../tenants.js'
import { defineCommand } from './command.js'
import { portArgument } from './port.js'

export const checkCommand = defineCommand({
  name: 'check',
  usage: 'check <PORT>',
  options: {},
  async run ({ root, out }, _values, positionals) {
    const p = portArgument(positionals, 'check')
    const t = readTenants(root).find((x) => x.port === p)
    if (!t) throw new CliError(`port ${p} is not a tenant; run npm run tenant:add ${p}`)
    const procs = await pm2List()
    const s = await tenantStatus(root, t, procs)
    const failures: string[] = []
    if (t.loaded) {
      const c = t.loaded.config
      out(`${t.loaded.file}: ok — ${c.TENANT_NAME}, listens on ${c.HOST}:${p}`)
      out(`  V8: ${c.V8_USERNAME ? `user ${c.V8_USERNAME}` : 'login not set (open /config-v8)'}; Kentro: ${s.off.includes('Kentro not set') ? 'not set (flows take borrower data from dados_cliente)' : 'set'}; PresençaBank: ${s.off.includes('PresençaBank off') ? 'off' : 'set'}`)
      out(`  default gender (DEFAULT_GENDER): ${genderLine(c.DEFAULT_GENDER)}`)
      for (const w of t.loaded.warnings) out(`  note: ${w}`)
      if (/api\.v8digital\.com/.test(c.V8_API_URL)) out(`  warning: V8_API_URL=${c.V8_API_URL} is the older system's wrong host; the BFF is https://bff.v8sistema.com`)
    } else {
      failures.push('config invalid')
    }
    failures.push(...s.missing)
    const daemon = daemonRuntimeProblem(procs)
    if (daemon) failures.push('PM2 daemon on the wrong Node')
    out(`  pm2: ${s.pm2}`)
    if (s.pm2 !== 'pm2 not running' && s.pm2 !== 'not in pm2' && !s.pm2.startsWith('online')) failures.push(`PM2 state ${s.pm2}`)
    out(`  health: ${s.health.reachable ? String(s.health.status) : 'not answering'}`)
    if (!s.health.reachable) failures.push('not answering')
    else if (s.health.status !== 'OK') failures.push(`health ${s.health.status}`)
    for (const problem of s.problems) out(`  problem: ${problem}`)
    if (failures.length === 0) {
      out('  result: OK')
      return 0
    }
    out(`  result: NOT OK — ${failures.join('; ')}`)
    return 1
  },
})

/** How tenant:check names the declared default gender. */
export function genderLine (g: string): string {
  return g === ''
    ? 'none declared — a CPF whose gender neither the request, the CRM nor V8 knows gets 422 dados_faltantes (sexo)'
    : `${g}, declared by this tenant — used only when the request, the CRM and V8 do not know it, and recorded as padrao_tenant`
}
