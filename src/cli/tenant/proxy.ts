/** `tenant proxy --console SITE [--api SITE]`: a Caddyfile for HTTPS in front of the console and the tenants (logic in cli/proxy-config.ts). */
import fs from 'node:fs'
import { loadConsoleConfig, consoleFile, type ConsoleConfig } from '../../config/console.js'
import { writeFileAtomic } from '../../config/env-file.js'
import { CliError } from '../errors.js'
import { renderCaddyfile } from '../proxy-config.js'
import { defineCommand } from './command.js'

export const proxyCommand = defineCommand({
  name: 'proxy',
  usage: 'proxy -- --console console.example.com [--api clt.example.com --email you@example.com --out Caddyfile]   (HTTPS with Caddy)',
  options: {
    console: { type: 'string' },
    api: { type: 'string' },
    email: { type: 'string' },
    out: { type: 'string' },
  },
  async run ({ root, out }, values) {
    if (values.console === undefined) throw new CliError('tenant:proxy needs --console <site>, e.g. npm run tenant:proxy -- --console console.example.com.br --api clt.example.com.br')
    let rendered: ReturnType<typeof renderCaddyfile>
    let settings: ConsoleConfig | undefined
    try {
      settings = fs.existsSync(consoleFile(root)) ? loadConsoleConfig(root) : undefined
      rendered = renderCaddyfile({
        root,
        consoleSite: values.console,
        ...(values.api !== undefined ? { apiSite: values.api } : {}),
        ...(values.email !== undefined ? { email: values.email } : {}),
        ...(settings ? { console: settings } : {}),
      })
    } catch (err) {
      throw new CliError((err as Error).message)
    }
    if (values.out === undefined) {
      process.stdout.write(rendered.text)
    } else {
      // No secret in it: readable by the caddy user.
      writeFileAtomic(values.out, rendered.text, 0o644, false)
      out(`Wrote ${values.out} (console${rendered.tenants.length ? ` + ${rendered.tenants.length} tenant(s)` : ''}). Then: caddy reload --config ${values.out} (or systemctl reload caddy).`)
    }
    for (const s of rendered.skipped) process.stderr.write(`skipped: ${s}\n`)
    // Behind Caddy the console sees every browser as 127.0.0.1 until its file says Caddy may name the client.
    if (settings?.TRUST_PROXY === false) out(`note: ${consoleFile(root)} has no TRUST_PROXY: behind this Caddy add TRUST_PROXY=127.0.0.1 to it and restart the console (npm run tenant:reload), so one browser's wrong admin keys lock out that browser only.`)
    return 0
  },
})
