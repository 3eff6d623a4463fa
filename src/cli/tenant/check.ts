/** `tenant check <PORT>`: validate the tenant's file, name what is not configured, and ask its /health. */
import { presencaConfigured } from '../../config/schema.js'
import { CliError } from '../errors.js'
import { probeHealth } from '../net.js'
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
    if (t.error) {
      out(t.error)
      return 1
    }
    const c = t.loaded!.config
    out(`${t.loaded!.file}: ok — ${c.TENANT_NAME}, V8 ${c.V8_USERNAME ? `user ${c.V8_USERNAME}` : 'login not set (open /config-v8)'}, Kentro ${c.KENTRO_API_URL ? 'configured' : 'not configured'}, PresençaBank ${presencaConfigured(c) ? 'configured' : 'off'}`)
    out(`  default gender (DEFAULT_GENDER): ${genderLine(c.DEFAULT_GENDER)}`)
    for (const w of t.loaded!.warnings) out(`  note: ${w}`)
    if (/api\.v8digital\.com/.test(c.V8_API_URL)) out(`  warning: V8_API_URL=${c.V8_API_URL} is the older system's wrong host; the BFF is https://bff.v8sistema.com`)
    const health = await probeHealth(p, 800)
    out(`  health: ${health.reachable ? String(health.status) : 'not answering'}`)
    return 0
  },
})

/** How tenant:check names the declared default gender. */
export function genderLine (g: string): string {
  return g === ''
    ? 'none declared — a CPF whose gender neither the request, the CRM nor V8 knows gets 422 dados_faltantes (sexo)'
    : `${g}, declared by this tenant — used only when the request, the CRM and V8 do not know it, and recorded as padrao_tenant`
}
