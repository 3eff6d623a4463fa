/** The tenants of a root folder: which ports have a config file, and whether each file loads. */
import fs from 'node:fs'
import { ConfigError } from '../config/errors.js'
import { loadTenantConfig, type LoadedConfig } from '../config/load.js'
import { CONFIG_FILE_RE, tenantPaths } from '../config/paths.js'

export interface TenantEntry {
  port: number
  loaded?: LoadedConfig
  error?: string
}

export function listTenantPorts (root: string): number[] {
  const dir = tenantPaths(root, 0).tenantsDir
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .map((f) => CONFIG_FILE_RE.exec(f)?.[1])
    .filter((p): p is string => p !== undefined)
    .map(Number)
    .sort((a, b) => a - b)
}

export function readTenants (root: string): TenantEntry[] {
  return listTenantPorts(root).map((port) => {
    try {
      return { port, loaded: loadTenantConfig(root, port) }
    } catch (err) {
      return { port, error: err instanceof ConfigError ? err.message : String(err) }
    }
  })
}

/** The sandbox a tenant points at, if its V8 auth URL is the sandbox's on loopback. */
export function sandboxPortOf (entry: TenantEntry): number | undefined {
  const url = entry.loaded?.config.V8_AUTH_URL
  if (!url) return undefined
  try {
    const u = new URL(url)
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) || u.pathname !== '/oauth/token') return undefined
    return Number(u.port || 80)
  } catch {
    return undefined
  }
}
