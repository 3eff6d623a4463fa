/**
 * `tenant key <PORT> [--rotate]`: the fingerprint of the tenant's API key, or a new key (printed once) that the
 * running process switches to at once (SIGHUP re-reads its file: no restart), refusing the old one from then on.
 */
import fs from 'node:fs'
import { updateEnvText, writeFileAtomic } from '../../config/env-file.js'
import { keyFingerprint, newKey } from '../../config/keys.js'
import { parseTenantConfig } from '../../config/load.js'
import { tenantPaths } from '../../config/paths.js'
import { appName } from '../ecosystem.js'
import { CliError } from '../errors.js'
import { switchRunningKey } from '../key-switch.js'
import { readTenants } from '../tenants.js'
import { defineCommand } from './command.js'
import { portArgument } from './port.js'

/** First 16 hex digits of the key's SHA-256: enough to tell keys apart, useless to call the API with. */

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
    return switchRunningKey({
      name: `Tenant ${port}`,
      app: appName(port),
      port,
      host: t.loaded.config.HOST,
      path: '/config/v8/atual',
      oldKey: current,
      newKey: key,
      restart: `npm run tenant:reload ${port}`,
    }, out)
  },
})
