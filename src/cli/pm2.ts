/** Talking to the operator's PM2 through its own CLI (the local dependency), never starting a daemon by accident. */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { CODE_DIR } from '../config/paths.js'

const run = promisify(execFile)
export const PM2_BIN = path.join(CODE_DIR, 'node_modules', 'pm2', 'bin', 'pm2')

export function pm2Home (): string {
  return process.env['PM2_HOME'] ?? path.join(os.homedir(), '.pm2')
}

/** A running PM2 daemon leaves its RPC socket in PM2_HOME; without it nothing runs under PM2. */
export function pm2DaemonRunning (): boolean {
  return fs.existsSync(path.join(pm2Home(), 'rpc.sock'))
}

export async function pm2 (args: string[], opts: { cwd?: string } = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [PM2_BIN, ...args], { cwd: opts.cwd, maxBuffer: 16 * 1024 * 1024 })
  return stdout
}

export interface Pm2Process {
  name: string
  status: string
  pid: number
  memory: number
  restarts: number
}

/** Processes known to PM2, or [] when no daemon runs (does not start one). */
export async function pm2List (): Promise<Pm2Process[]> {
  if (!pm2DaemonRunning()) return []
  const out = await pm2(['jlist'])
  const start = out.indexOf('[')
  const list = JSON.parse(start >= 0 ? out.slice(start) : '[]') as Array<{
    name: string
    pid: number
    monit?: { memory?: number }
    pm2_env?: { status?: string; restart_time?: number }
  }>
  return list.map((p) => ({
    name: p.name,
    status: p.pm2_env?.status ?? 'unknown',
    pid: p.pid,
    memory: p.monit?.memory ?? 0,
    restarts: p.pm2_env?.restart_time ?? 0,
  }))
}
