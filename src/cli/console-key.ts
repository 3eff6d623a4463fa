/**
 * `npm run console:key [-- --rotate]`: the fleet console's admin key. The first call makes tenants/console.env and
 * prints the key once; later calls print its fingerprint only; --rotate writes a new key (printed once), and the
 * command (cli/console.ts) sends the running console SIGHUP, as tenant:key does a tenant: it re-reads the file and
 * refuses the old key from then on, without a restart.
 */
import fs from 'node:fs'
import { ensureConsoleConfig, parseConsoleConfig, type ConsoleConfig } from '../config/console.js'
import { keyFingerprint, newKey } from '../config/keys.js'
import { updateEnvText, writeFileAtomic } from '../config/env-file.js'
import { isBadPort } from './bad-ports.js'
import { reachHost } from './net.js'

/** First 16 hex digits of the key's SHA-256: enough to tell keys apart, useless to log in with. */

export interface ConsoleKeyResult {
  file: string
  /** The key, when this call made it (shown once). */
  shown?: string
  fingerprint: string
  url: string
  created: boolean
  rotated: boolean
  /** The settings now in the file (where the console listens). */
  config: Pick<ConsoleConfig, 'PORT' | 'HOST'>
  /** The key the rotation replaced (never printed: the switch check asks the console with it). */
  previousKey?: string
}

/** Where an operator on this machine opens the console. */
export function consoleUrl (config: { HOST: string; PORT: number }): string {
  return `http://${reachHost(config.HOST)}:${config.PORT}/`
}

export function consoleKey (root: string, opts: { rotate?: boolean; port?: number } = {}): ConsoleKeyResult {
  if (opts.port !== undefined && isBadPort(opts.port)) throw new Error(`port ${opts.port} is one browsers refuse (ERR_UNSAFE_PORT): the console exists to avoid those; choose another`)
  const { config, file, created } = ensureConsoleConfig(root, opts.port !== undefined ? { port: opts.port } : {})
  if (created) return { file, shown: config.ADMIN_KEY, fingerprint: keyFingerprint(config.ADMIN_KEY), url: consoleUrl(config), created, rotated: false, config }
  if (!opts.rotate) return { file, fingerprint: keyFingerprint(config.ADMIN_KEY), url: consoleUrl(config), created, rotated: false, config }
  const key = newKey()
  const text = updateEnvText(fs.readFileSync(file, 'utf8'), { ADMIN_KEY: key })
  const next = parseConsoleConfig(text, file) // never write a file that would not load
  writeFileAtomic(file, text, 0o600, false)
  return { file, shown: key, fingerprint: keyFingerprint(key), url: consoleUrl(next), created, rotated: true, config: next, previousKey: config.ADMIN_KEY }
}

/** What the command prints. */
export function consoleKeyLines (r: ConsoleKeyResult): string[] {
  const lines: string[] = []
  if (r.created) lines.push(`Created ${r.file} (mode 0600). The console's admin key (shown once; it opens the fleet list, no tenant's API):`, '', `  ${r.shown}`, '')
  else if (r.rotated) lines.push(`New admin key written to ${r.file} (shown once):`, '', `  ${r.shown}`, '')
  else lines.push(`Console admin key: fingerprint ${r.fingerprint} (sha256, first 16 hex digits); it is shown only when made. A lost key: npm run console:key -- --rotate`)
  lines.push(`Console: ${r.url}   (every tenant's page at ${r.url}t/<PORT>/config-v8)`)
  if (r.created) lines.push('It runs under PM2 with the fleet: npm run tenant:reload (starts or reloads every tenant, then the console)')
  return lines
}
