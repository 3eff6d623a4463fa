/**
 * The fleet console's own settings: tenants/console.env (PORT, HOST, ADMIN_KEY, LOG_LEVEL, TRUST_PROXY), parsed
 * like a tenant file (dotenv → zod, never process.env), created 0600 with a fresh admin key on first use. The admin
 * key opens the console's fleet list; it is no tenant's key and opens no tenant's API.
 */
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { writeNewFile } from './durable.js'
import { parseEnvText, updateEnvText } from './env-file.js'
import { ConfigError } from './errors.js'
import { describeIssue } from './load.js'
import { newKey } from './keys.js'
import { trustProxySchema } from './schema.js'

/** Not on the browsers' bad-port list (cli/bad-ports.ts), not the sandbox's 7070, outside the usual tenant 6000s. */
export const CONSOLE_DEFAULT_PORT = 7000
export const CONSOLE_FILE = 'console.env'
export const CONSOLE_APP = 'clt-v8-console'

const consoleSchema = z.object({
  PORT: z.coerce.number().int().min(1024, 'must be between 1024 and 65535').max(65535, 'must be between 1024 and 65535').default(CONSOLE_DEFAULT_PORT),
  /** Loopback by default: publish it through the generated reverse proxy (TLS), or choose an address on purpose. */
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  ADMIN_KEY: z.string().trim().min(32, 'must be at least 32 characters (npm run console:key generates one)'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Who may name the client in X-Forwarded-For, as in a tenant's file: behind the generated Caddyfile,
   * TRUST_PROXY=127.0.0.1, or every browser is Caddy's 127.0.0.1 and ten wrong admin keys lock every operator out.
   */
  TRUST_PROXY: trustProxySchema,
})

export type ConsoleConfig = Readonly<z.output<typeof consoleSchema>>
type ConsoleKey = keyof ConsoleConfig
const CONSOLE_KEYS = Object.keys(consoleSchema.shape) as ConsoleKey[]

export const consoleFile = (root: string): string => path.join(root, 'tenants', CONSOLE_FILE)

export function parseConsoleConfig (text: string, file: string): ConsoleConfig {
  const raw = parseEnvText(text)
  const input = Object.fromEntries(Object.entries(raw).filter(([k, v]) => k in consoleSchema.shape && v.trim() !== ''))
  const parsed = consoleSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConfigError(`${file}: ${describeIssue(issue, input)}`, file, String(issue.path[0] ?? '(file)'))
  }
  return Object.freeze(parsed.data)
}

export function loadConsoleConfig (root: string): ConsoleConfig {
  const file = consoleFile(root)
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError(`${file}: no console settings yet; run npm run console:key`, file)
    throw new ConfigError(`${file}: cannot be read (${(err as Error).message})`, file)
  }
  return parseConsoleConfig(text, file)
}

/**
 * The console's settings, creating the file (mode 0600, exclusive: two first uses cannot both win) with a new admin
 * key when there is none. `created` is true only for the call that wrote it: that call alone shows the key.
 */
export function ensureConsoleConfig (root: string, defaults: { port?: number; host?: string } = {}): { config: ConsoleConfig; file: string; created: boolean } {
  const file = consoleFile(root)
  if (fs.existsSync(file)) return { config: loadConsoleConfig(root), file, created: false }
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const text = updateEnvText(
    '# The fleet console (npm run console:key; GENERATED, edit PORT/HOST if you must, then npm run tenant:ecosystem).\n' +
      '# Behind the Caddyfile of npm run tenant:proxy, add TRUST_PROXY=127.0.0.1 (as in the tenant files).\n',
    { PORT: String(defaults.port ?? CONSOLE_DEFAULT_PORT), HOST: defaults.host ?? '127.0.0.1', ADMIN_KEY: newKey() }
  )
  const config = parseConsoleConfig(text, file)
  try {
    writeNewFile(file, text, 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { config: loadConsoleConfig(root), file, created: false }
    throw err
  }
  return { config, file, created: true }
}

/**
 * The settings a running console holds: read once at start, re-read on SIGHUP (console:key --rotate sends it), as a
 * tenant's ConfigStore is, so no request pays for a look at the file. A re-read file that does not load throws and
 * the settings in force stay. The admin key applies at once; where it listens, TRUST_PROXY and LOG_LEVEL are taken
 * at start only (`atStartOnly`).
 */
export class ConsoleSettings {
  #config: ConsoleConfig
  readonly #file: string

  constructor (config: ConsoleConfig, file: string) {
    this.#config = config
    this.#file = file
  }

  get (): ConsoleConfig {
    return this.#config
  }

  /** Read the file again; the keys whose value changed, and those of them that wait for a restart. */
  reload (): { changed: ConsoleKey[]; atStartOnly: ConsoleKey[] } {
    const next = parseConsoleConfig(fs.readFileSync(this.#file, 'utf8'), this.#file)
    const previous = this.#config
    const changed = CONSOLE_KEYS.filter((k) => String(previous[k]) !== String(next[k]))
    this.#config = next
    return { changed, atStartOnly: changed.filter((k) => k !== 'ADMIN_KEY') }
  }
}
