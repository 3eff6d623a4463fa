/** Load one tenant's config: tenants/config-<PORT>.env → dotenv.parse → zod. Never touches process.env. */
import fs from 'node:fs'
import { z } from 'zod'
import { parseEnvText } from './env-file.js'
import { ConfigError } from './errors.js'
import { tenantPaths } from './paths.js'
import { CONFIG_KEYS, SEED_KEYS, configSchema, trustProxyWarning, type TenantConfig } from './schema.js'

export interface LoadedConfig {
  config: TenantConfig
  file: string
  /** Raw key/value pairs as found in the file (for editing it back). */
  raw: Record<string, string>
  /** Non-fatal remarks: unknown keys, seed-format keys mapped or ignored. */
  warnings: string[]
}

export function loadTenantConfig (root: string, port: number): LoadedConfig {
  const file = tenantPaths(root, port).configFile
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError(`${file}: no config for port ${port}; run npm run tenant:add ${port}`, file)
    }
    throw new ConfigError(`${file}: cannot be read (${(err as Error).message})`, file)
  }
  return parseTenantConfig(text, file, port)
}

/** Validate config text; `port` (when given) must agree with the file's PORT. */
export function parseTenantConfig (text: string, file: string, port?: number): LoadedConfig {
  const raw = parseEnvText(text)
  const warnings: string[] = []
  const input: Record<string, string> = {}
  const known = new Set<string>(CONFIG_KEYS)
  for (const [key, value] of Object.entries(raw)) {
    if (known.has(key)) {
      input[key] = value
    } else if (key in SEED_KEYS) {
      const mapped = SEED_KEYS[key]
      if (mapped && raw[mapped] === undefined) {
        input[mapped] = value
        warnings.push(`${key} is a seed-system key; read as ${mapped}`)
      } else if (!mapped) {
        warnings.push(`${key} is a seed-system key that is no longer used; ignored`)
      }
    } else {
      warnings.push(`${key} is not a known key; ignored`)
    }
  }
  // An empty value means "use the default" for every key that has one.
  for (const [key, value] of Object.entries(input)) if (value.trim() === '' && !key.endsWith('PASSWORD')) delete input[key]
  if (input['PORT'] === undefined && port !== undefined) input['PORT'] = String(port)

  const parsed = configSchema.safeParse(input)
  if (!parsed.success) throw new ConfigError(`${file}: ${describeIssue(parsed.error.issues[0]!, input)}`, file, String(parsed.error.issues[0]!.path[0] ?? ''))
  if (port !== undefined && parsed.data.PORT !== port) {
    throw new ConfigError(`${file}: PORT is ${parsed.data.PORT} but this file is for port ${port}`, file, 'PORT')
  }
  const hops = trustProxyWarning(parsed.data.TRUST_PROXY)
  if (hops !== undefined) warnings.push(hops)
  return { config: Object.freeze(parsed.data), file, raw, warnings }
}

/** A config file's first problem in one line: `KEY is missing` or `KEY <what is wrong>` (tenant files and console.env). */
export function describeIssue (issue: z.core.$ZodIssue, input: Record<string, string>): string {
  const key = String(issue.path[0] ?? '(file)')
  if (input[key] === undefined) return `${key} is missing`
  return `${key} ${issue.message.replace(/^Invalid input: /, '').replace(/^expected/, 'expected')}`
}
