/** `tenant add <PORT>`: write tenants/config-<PORT>.env from the template with a fresh API key (or complete a seed file). */
import fs from 'node:fs'
import path from 'node:path'
import { writeNewFile } from '../../config/durable.js'
import { updateEnvText, writeFileAtomic, parseEnvText } from '../../config/env-file.js'
import { parseTenantConfig } from '../../config/load.js'
import { newKey } from '../../config/keys.js'
import { tenantPaths } from '../../config/paths.js'
import { consoleFile, loadConsoleConfig } from '../../config/console.js'
import { isBadPort } from '../bad-ports.js'
import { consoleUrl } from '../console-key.js'
import { writeEcosystem } from '../ecosystem.js'
import { CliError } from '../errors.js'
import { portInUse } from '../net.js'
import { defineCommand } from './command.js'
import { parsePort } from './port.js'

export interface AddOptions {
  root: string
  codeDir: string
  port: string
  name?: string
  sandbox?: boolean
  sandboxUrl?: string
  /** A config file of the older system to take over (copied, then completed). */
  importFile?: string
  /** Listen on every interface (HOST=0.0.0.0); the default is loopback only. */
  public?: boolean
  /** Listen on this address instead (e.g. one private interface). */
  host?: string
  /** The gender this tenant DECLARES for consults when nobody knows it (DEFAULT_GENDER): M, F, or '' for none. */
  defaultGender?: string
}

export interface AddResult {
  port: number
  file: string
  apiKey: string
  completedSeed: boolean
  warnings: string[]
  /** Where it will listen (HOST of the file). */
  host: string
}

/** Loopback unless the operator chose otherwise: a tenant is reachable from other machines only on purpose. */
export const LOOPBACK = '127.0.0.1'
export const EVERY_INTERFACE = '0.0.0.0'

export const DEFAULT_SANDBOX_URL = 'http://127.0.0.1:7070'

/** --default-gender: M or F (masculino/feminino accepted), or '' / none to declare none. */
export function parseDefaultGender (raw: string): 'M' | 'F' | '' {
  const g = raw.trim().toUpperCase()
  if (g === 'M' || g === 'MASCULINO') return 'M'
  if (g === 'F' || g === 'FEMININO') return 'F'
  if (g === '' || g === 'NONE' || g === 'NENHUM') return ''
  throw new CliError(`--default-gender "${raw}": use M, F or none`)
}

export function sandboxSettings (url: string): Record<string, string> {
  const base = url.replace(/\/+$/, '')
  return {
    // Lets the URLs below point at loopback over http (address-policy.ts); the API can never set it.
    SANDBOX: 'true',
    V8_AUTH_URL: `${base}/oauth/token`,
    V8_API_URL: base,
    V8_CLIENT_ID: 'sandbox-client',
    V8_USERNAME: 'demo@sandbox.local',
    V8_PASSWORD: 'sandbox',
    KENTRO_API_URL: `${base}/kentro/int`,
    KENTRO_API_KEY: 'sandbox',
    KENTRO_QUEUE_ID: '25',
    PRESENCABANK_URL: `${base}/presenca`,
    PRESENCABANK_LOGIN: 'demo',
    PRESENCABANK_PASSWORD: 'sandbox',
    // /health and the logs say which kind of tenant this is.
    ENVIRONMENT: 'sandbox',
  }
}

export async function addTenant (opts: AddOptions): Promise<AddResult> {
  const port = parsePort(opts.port)
  if (opts.public && opts.host !== undefined) throw new CliError('give either --public (every interface) or --host ADDRESS, not both')
  const chosenHost = opts.host ?? (opts.public ? EVERY_INTERFACE : undefined)
  const paths = tenantPaths(opts.root, port)
  fs.mkdirSync(paths.tenantsDir, { recursive: true })
  fs.mkdirSync(paths.logsDir, { recursive: true })

  if (opts.importFile !== undefined) {
    if (fs.existsSync(paths.configFile)) throw new CliError(`${paths.configFile} already exists; not importing ${opts.importFile} over it`)
    if (!fs.existsSync(opts.importFile)) throw new CliError(`${opts.importFile}: no such file to import`)
    fs.copyFileSync(opts.importFile, paths.configFile, fs.constants.COPYFILE_EXCL)
    fs.chmodSync(paths.configFile, 0o600)
  }

  if (fs.existsSync(paths.configFile)) {
    // A file carried over from the older system has no API_KEY: complete it, keep every value it has.
    const text = fs.readFileSync(paths.configFile, 'utf8')
    const raw = parseEnvText(text)
    if (raw['API_KEY']) throw new CliError(`port ${port} is already a tenant (${paths.configFile}); use tenant:remove first`)
    const apiKey = newKey()
    const updates: Record<string, string | undefined> = { API_KEY: apiKey }
    if (!raw['CALLBACK_SECRET']) updates['CALLBACK_SECRET'] = newKey()
    if (!raw['PORT']) updates['PORT'] = String(port)
    if (!raw['TENANT_NAME']) updates['TENANT_NAME'] = opts.name ?? `tenant-${port}`
    // The file's own HOST is kept unless the operator chose here; a file without one gets loopback, like a new tenant.
    if (chosenHost !== undefined || !raw['HOST']) updates['HOST'] = chosenHost ?? LOOPBACK
    if (opts.sandbox) Object.assign(updates, sandboxSettings(opts.sandboxUrl ?? DEFAULT_SANDBOX_URL))
    if (opts.defaultGender !== undefined) updates['DEFAULT_GENDER'] = parseDefaultGender(opts.defaultGender)
    const next = updateEnvText(text, updates)
    const loaded = parseTenantConfig(next, paths.configFile, port) // refuse to write a file that would not load
    writeFileAtomic(paths.configFile, next)
    return { port, file: paths.configFile, apiKey, completedSeed: true, warnings: loaded.warnings, host: loaded.config.HOST }
  }

  const host = chosenHost ?? LOOPBACK
  if (await portInUse(port, host)) {
    throw new CliError(`port ${port} is in use by another program; pick a free port`)
  }
  const template = path.join(opts.codeDir, 'tenants', 'config.example.env')
  const text = fs.existsSync(template) ? fs.readFileSync(template, 'utf8') : ''
  const apiKey = newKey()
  const updates: Record<string, string> = {
    PORT: String(port),
    TENANT_NAME: opts.name ?? `tenant-${port}`,
    API_KEY: apiKey,
    // Ready for when the operator sets CALLBACK_URL: the client verifies callbacks with it (README, Eventos).
    CALLBACK_SECRET: newKey(),
    HOST: host,
    ...(opts.sandbox ? sandboxSettings(opts.sandboxUrl ?? DEFAULT_SANDBOX_URL) : {}),
    ...(opts.defaultGender !== undefined ? { DEFAULT_GENDER: parseDefaultGender(opts.defaultGender) } : {}),
  }
  const content = updateEnvText(text, updates)
  parseTenantConfig(content, paths.configFile, port)
  // 'wx': two concurrent tenant:add for one port cannot both win.
  writeNewFile(paths.configFile, content, 0o600)
  return { port, file: paths.configFile, apiKey, completedSeed: false, warnings: [], host }
}

export const addCommand = defineCommand({
  name: 'add',
  usage: 'add <PORT> [-- --name "Cliente" --public | --host ADDR --sandbox [--sandbox-url URL] --import OLD.env --default-gender M|F|none]',
  options: {
    name: { type: 'string' },
    sandbox: { type: 'boolean', default: false },
    'sandbox-url': { type: 'string' },
    import: { type: 'string' },
    public: { type: 'boolean', default: false },
    host: { type: 'string' },
    'default-gender': { type: 'string' },
  },
  async run ({ root, codeDir, out }, values, positionals) {
    if (positionals[0] === undefined) throw new CliError('tenant:add needs a port, e.g. npm run tenant:add 6000')
    const r = await addTenant({
      root,
      codeDir,
      port: positionals[0],
      ...(values.name !== undefined ? { name: values.name } : {}),
      sandbox: values.sandbox,
      ...(values['sandbox-url'] !== undefined ? { sandboxUrl: values['sandbox-url'] } : {}),
      ...(values.import !== undefined ? { importFile: values.import } : {}),
      public: values.public,
      ...(values.host !== undefined ? { host: values.host } : {}),
      ...(values['default-gender'] !== undefined ? { defaultGender: values['default-gender'] } : {}),
    })
    const eco = writeEcosystem(root, codeDir)
    out(r.completedSeed ? `Completed the existing config ${r.file} (kept its values, added what was missing).` : `Created ${r.file} (mode 0600).`)
    for (const w of r.warnings) out(`  note: ${w}`)
    out(r.host === LOOPBACK
      ? `Listens on ${LOOPBACK}:${r.port}: this machine only (a reverse proxy here can publish it). For clients on other machines: --public at tenant:add, or HOST=0.0.0.0 in the file, then npm run tenant:reload ${r.port}.`
      : `Listens on ${r.host}:${r.port}${r.host === EVERY_INTERFACE ? ' (every interface: reachable from other machines; firewall it or put TLS in front)' : ''}.`)
    out(`API key for port ${r.port} (shown once; keep it in the client's bot config):\n\n  ${r.apiKey}\n`)
    out(`Regenerated ${eco.file} (${eco.ports.length} tenant(s)${eco.sandboxPorts.length ? ', + sandbox' : ''}).`)
    if (isBadPort(r.port)) {
      // The API works on any port; a browser refuses to open a page on this one (net::ERR_UNSAFE_PORT).
      const hasConsole = fs.existsSync(consoleFile(root))
      const page = `${hasConsole ? consoleUrl(loadConsoleConfig(root)) : 'http://127.0.0.1:7000/'}t/${r.port}/config-v8`
      out(`warning: browsers refuse port ${r.port} (it is on the WHATWG "bad port" list: net::ERR_UNSAFE_PORT). Bots and curl are fine; open its pages through the fleet console:`)
      out(`  ${page}${hasConsole ? '' : '   (first: npm run console:key, which makes the console\'s key and adds it to the ecosystem)'}`)
      out(`Next: npm run tenant:reload ${r.port}   (starts it under PM2), then open ${page}`)
    } else {
      out(`Next: npm run tenant:reload ${r.port}   (starts it under PM2), then open http://<host>:${r.port}/config-v8 (or the fleet console's /t/${r.port}/config-v8)`)
    }
    return 0
  },
})
