/** A bench tenant: a temp project root, a config made by the real `tenant add` (plus bench settings), a real process. */
import fs from 'node:fs'
import path from 'node:path'
import { addTenant } from '../../src/cli/tenant/add.js'
import { updateEnvText, writeFileAtomic } from '../../src/config/env-file.js'
import { TENANT_NODE_ARGS } from '../../src/config/lifecycle.js'
import { tenantPaths } from '../../src/config/paths.js'
import { freePort, waitReady } from './net.js'
import { REPO_DIR, TENANT_BIN } from './paths.js'
import { startChild, type Child } from './procs.js'

/** A folder laid out like the project root (tenants/, logs/), inside `parent` (the bench's scratch folder). */
export function makeRoot (parent: string, name = 'root'): string {
  const root = path.join(parent, name)
  fs.mkdirSync(path.join(root, 'tenants'), { recursive: true })
  fs.mkdirSync(path.join(root, 'logs'), { recursive: true })
  return root
}

export interface TenantSetup {
  port: number
  apiKey: string
  configFile: string
  auth: Record<string, string>
}

/**
 * `tenant add <PORT> [--sandbox --sandbox-url URL]` through the CLI's own addTenant, host 127.0.0.1,
 * then the bench's extra settings written into the file (e.g. RATE_LIMIT_PER_MINUTE=0).
 */
export async function addBenchTenant (root: string, opts: { port?: number; name?: string; sandboxUrl?: string; extra?: Record<string, string> } = {}): Promise<TenantSetup> {
  const port = opts.port ?? (await freePort())
  const r = await addTenant({
    root,
    codeDir: REPO_DIR,
    port: String(port),
    name: opts.name ?? `bench-${port}`,
    host: '127.0.0.1',
    ...(opts.sandboxUrl ? { sandbox: true, sandboxUrl: opts.sandboxUrl } : {}),
  })
  if (opts.extra && Object.keys(opts.extra).length > 0) {
    const text = fs.readFileSync(r.file, 'utf8')
    writeFileAtomic(r.file, updateEnvText(text, opts.extra), 0o600, false)
  }
  return { port, apiKey: r.apiKey, configFile: r.file, auth: { authorization: `Bearer ${r.apiKey}` } }
}

/** `node <TENANT_NODE_ARGS> bin/clt-v8-api.js --port P --root ROOT`, as PM2 runs it (file logging on); resolves once /health is 200. */
export async function startTenant (root: string, port: number, name = `tenant-${port}`): Promise<Child> {
  const { PORT: _ignored, ...env } = process.env
  const child = startChild(name, process.execPath, [...TENANT_NODE_ARGS, TENANT_BIN, '--port', String(port), '--root', root], {
    cwd: root,
    env,
    logFile: path.join(tenantPaths(root, port).logsDir, `stray-${port}.log`),
  })
  await waitReady(port, '/health', { child, timeoutMs: 20_000 })
  return child
}
