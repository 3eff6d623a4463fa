/** `npm run demo`: the sandbox + a demo tenant under PM2, then exactly what to curl and what to open. */
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { loadTenantConfig } from '../config/load.js'
import { CODE_DIR, tenantPaths } from '../config/paths.js'
import { isBadPort } from './bad-ports.js'
import { consoleKey } from './console-key.js'
import { writeEcosystem } from './ecosystem.js'
import { probeHealth } from './net.js'
import { pm2, pm2Home } from './pm2.js'
import { CliError } from './errors.js'
import { addTenant } from './tenant/add.js'
import { parsePort } from './tenant/port.js'

const out = (s = ''): void => { process.stdout.write(s + '\n') }

async function waitFor (what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check().catch(() => false)) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new CliError(`${what} did not come up within ${ms / 1000} s; see logs/ and \`npx pm2 logs\``)
}

export async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string', default: '6000' }, 'sandbox-port': { type: 'string', default: '7070' }, 'console-port': { type: 'string' }, root: { type: 'string' } },
  })
  const root = values.root ?? CODE_DIR
  const port = parsePort(values.port)
  const sandboxPort = parsePort(values['sandbox-port'])
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`
  const paths = tenantPaths(root, port)

  let apiKey: string
  if (fs.existsSync(paths.configFile)) {
    apiKey = loadTenantConfig(root, port).config.API_KEY
    out(`Using the existing tenant ${port} (${paths.configFile}).`)
  } else {
    apiKey = (await addTenant({ root, codeDir: CODE_DIR, port: String(port), name: 'Demo', sandbox: true, sandboxUrl, host: '127.0.0.1' })).apiKey
    out(`Created the demo tenant ${port} in sandbox mode (${paths.configFile}).`)
  }
  // The fleet console: the demo tenant's port (6000) is one browsers refuse, so its pages open through it.
  const fleetConsole = consoleKey(root, values['console-port'] !== undefined ? { port: parsePort(values['console-port']) } : {})
  writeEcosystem(root, CODE_DIR)
  out(`Starting the fleet under PM2 (PM2_HOME=${pm2Home()}) …`)
  await pm2(['startOrReload', 'ecosystem.config.cjs', '--update-env'], { cwd: root })
  await waitFor(`the sandbox on ${sandboxUrl}`, async () => (await request(`${sandboxUrl}/__sandbox/stats`, { signal: AbortSignal.timeout(1000) }).then(async (r) => { await r.body.dump(); return r.statusCode })) === 200)
  await waitFor(`tenant ${port}`, async () => (await probeHealth(port)).status === 'OK')
  await waitFor(`the fleet console on ${fleetConsole.url}`, async () => (await request(`${fleetConsole.url}health`, { signal: AbortSignal.timeout(1000) }).then(async (r) => { await r.body.dump(); return r.statusCode })) === 200)
  const people = await request(`${sandboxUrl}/__sandbox/people?scenario=ok&limit=1`).then((r) => r.body.json() as Promise<{ people: Array<{ cpf: string; nome: string }> }>)
  const cpf = people.people[0]?.cpf ?? '<cpf>'
  const base = `http://127.0.0.1:${port}`
  out(`
clt-v8 demo is running: tenant "Demo" on port ${port}, the sandbox upstream on ${sandboxPort}.

API key of the demo tenant (every route but /health needs it):
  ${apiKey}

Try it:
  curl -s ${base}/health
  curl -s -X POST ${base}/clt/fluxo-completo -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' -d '{"cpf":"${cpf}"}'
  curl -s -X POST ${base}/clt/mensagem-whatsapp -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' -d '{"cpf":"${cpf}"}'
  curl -s -X POST ${base}/clt/lotes -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' -d '{"cpfs":["${cpf}"]}'
  curl -s -X POST ${base}/clt/fluxo-completo-precencabank -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' -d '{"cpf":"${cpf}"}'

Open in a browser${isBadPort(port) ? ` (port ${port} is one browsers refuse, ERR_UNSAFE_PORT: its pages open through the fleet console)` : ''}:
  the fleet console: ${fleetConsole.url}   ${fleetConsole.shown ? `admin key (shown once): ${fleetConsole.shown}` : 'admin key: shown when it was made (a new one: npm run console:key -- --rotate)'}
  the demo tenant's config page (paste its API key when asked): ${fleetConsole.url}t/${port}/config-v8${isBadPort(port) ? '' : `   (or ${base}/config-v8)`}
  its API docs: ${fleetConsole.url}t/${port}/docs/

Sandbox people by scenario: curl -s '${sandboxUrl}/__sandbox/people?scenario=ok&limit=5'   (ok, rejected, no_opportunity, incomplete, no_margin, slow, no_gender, no_links)
Fleet: npx pm2 status · npx pm2 logs · npm run tenant:list · stop with: npx pm2 delete ecosystem.config.cjs`)
  return 0
}
