/** Where a tenant's files live: one root folder holding tenants/ and logs/ (the project folder by default). */
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The folder holding package.json, bin/ and dist/ (this file is src/config or dist/config). */
export const CODE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface TenantPaths {
  root: string
  tenantsDir: string
  logsDir: string
  configFile: string
  dbFile: string
  outLog: string
  errorLog: string
  pm2Log: string
}

export function tenantPaths (root: string, port: number): TenantPaths {
  const tenantsDir = path.join(root, 'tenants')
  const logsDir = path.join(root, 'logs')
  return {
    root,
    tenantsDir,
    logsDir,
    configFile: path.join(tenantsDir, `config-${port}.env`),
    dbFile: path.join(tenantsDir, `data-${port}.sqlite`),
    outLog: path.join(logsDir, `out-${port}.log`),
    errorLog: path.join(logsDir, `error-${port}.log`),
    pm2Log: path.join(logsDir, `pm2-${port}.log`),
  }
}

export const CONFIG_FILE_RE = /^config-(\d+)\.env$/
