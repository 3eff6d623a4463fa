/**
 * `tenant key <PORT> [--rotate]`: the fingerprint of the tenant's API key, or a new key (printed once) that the
 * running process switches to at once (SIGHUP re-reads its file: no restart), refusing the old one from then on.
 */
import fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { updateEnvText, writeFileAtomic } from '../../config/env-file.js'
import { keyFingerprint, newKey } from '../../config/keys.js'
import { parseTenantConfig } from '../../config/load.js'
import { tenantPaths } from '../../config/paths.js'
import { appName } from '../ecosystem.js'
import { CliError } from '../errors.js'
import { probeHealth, reachHost } from '../net.js'
import { pm2List } from '../pm2.js'
import { readTenants } from '../tenants.js'
import { defineCommand } from './command.js'
import { portArgument } from './port.js'

/** First 16 hex digits of the key's SHA-256: enough to tell keys apart, useless to call the API with. */

/** How long a running process gets to switch to the new key after SIGHUP. */
const SWITCH_WITHIN_MS = 5000

export const keyCommand = defineCommand({
  name: 'key',
  usage: 'key <PORT> [-- --rotate]   (fingerprint of the API key; --rotate: new key, old one refused at once)',
  options: { rotate: { type: 'boolean', default: false } },
  async run ({ root, out }, values, positionals) {
    const port = portArgument(positionals, 'key')
    const t = readTenants(root).find((x) => x.port === port)
    if (!t) throw new CliError(`port ${port} is not a tenant (no tenants/config-${port}.env)`)
    if (!t.loaded) throw new CliError(`${t.error}\nfix the file first`)
    const current = t.loaded.config.API_KEY
    if (!values.rotate) {
      out(`API key of port ${port}: fingerprint ${keyFingerprint(current)} (sha256, first 16 hex digits).`)
      out('The key itself is shown once, when it is made (tenant:add, tenant:key --rotate); this command never prints it.')
      out(`To check a key a client has: printf %s "$KEY" | sha256sum | cut -c1-16   — a lost key is replaced with: npm run tenant:key ${port} -- --rotate`)
      return 0
    }

    const file = tenantPaths(root, port).configFile
    const key = newKey()
    const text = updateEnvText(fs.readFileSync(file, 'utf8'), { API_KEY: key })
    parseTenantConfig(text, file, port) // never write a file that would not load
    writeFileAtomic(file, text)
    out(`New API key for port ${port} (shown once; give it to the client's bots):\n\n  ${key}\n`)
    out(`fingerprint ${keyFingerprint(key)}; the previous version of the file is kept as a timestamped .bak- copy.`)

    // The running process, if any, re-reads its file on SIGHUP; then the old key must fail and the new one pass.
    const host = reachHost(t.loaded.config.HOST)
    if (!(await probeHealth(port, 1000, host)).reachable) {
      out(`Tenant ${port} is not running: it starts with the new key.`)
      return 0
    }
    const proc = (await pm2List()).find((p) => p.name === appName(port) && p.status === 'online')
    if (!proc) {
      out(`Tenant ${port} answers but is not under this PM2: it accepts the OLD key until it re-reads its file. Send it SIGHUP (kill -HUP <pid>) or restart it.`)
      return 1
    }
    process.kill(proc.pid, 'SIGHUP')
    const deadline = Date.now() + SWITCH_WITHIN_MS
    // Ask with the old key until it is refused: until the switch it is a right key (the per-client count of wrong
    // keys, which locks an address out, sees exactly one wrong key per rotation).
    for (;;) {
      const status = await authStatus(port, host, current)
      if (status === 401) break
      if (status !== 200) throw new CliError(`tenant ${port} answered ${status} while switching keys; check it with npm run tenant:check ${port}`)
      if (Date.now() > deadline) throw new CliError(`tenant ${port} (pid ${proc.pid}) did not switch to the new key within ${SWITCH_WITHIN_MS / 1000} s; restart it: npm run tenant:reload ${port}`)
      await sleep(100)
    }
    const fresh = await authStatus(port, host, key)
    if (fresh !== 200) throw new CliError(`tenant ${port} refused the new key (${fresh}); restart it: npm run tenant:reload ${port}`)
    out(`Tenant ${port} (pid ${proc.pid}, not restarted) now accepts only the new key: the old one gets 401.`)
    return 0
  },
})

/** Status of an authenticated read (GET /config/v8/atual) with `key`. */
async function authStatus (port: number, host: string, key: string): Promise<number> {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  const res = await request(`http://${h}:${port}/config/v8/atual`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(2000) })
  await res.body.dump()
  return res.statusCode
}
