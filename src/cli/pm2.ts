/** Talking to the operator's PM2 through its own CLI (the local dependency), never starting a daemon by accident. */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { CODE_DIR } from '../config/paths.js'
import { NODE_MAJOR } from '../config/runtime.js'

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
  /** Exit code of the last exit, when it exited. */
  exitCode?: number
  /** The Node version of the PM2 daemon: cluster-mode workers run on it, whatever the entry's interpreter says. */
  daemonNode?: string
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
    pm2_env?: { status?: string; restart_time?: number; exit_code?: number; node_version?: string }
  }>
  return list.map((p) => ({
    name: p.name,
    status: p.pm2_env?.status ?? 'unknown',
    pid: p.pid,
    memory: p.monit?.memory ?? 0,
    restarts: p.pm2_env?.restart_time ?? 0,
    ...(typeof p.pm2_env?.exit_code === 'number' ? { exitCode: p.pm2_env.exit_code } : {}),
    ...(p.pm2_env?.node_version ? { daemonNode: p.pm2_env.node_version } : {}),
  }))
}

/**
 * Why the PM2 daemon cannot run the tenants, or undefined. PM2 forks cluster-mode workers with its own Node, so a
 * daemon started by a global `pm2` on the machine's Node 20 runs every tenant on Node 20 (which refuses to start).
 */
export function daemonRuntimeProblem (procs: readonly Pm2Process[]): string | undefined {
  const version = procs.find((p) => p.daemonNode)?.daemonNode
  if (version === undefined || Number(version.split('.')[0]) === NODE_MAJOR) return undefined
  return `the PM2 daemon runs on Node ${version}, and PM2 runs every tenant (cluster mode) on the daemon's Node; tenants need Node ${NODE_MAJOR}. ` +
    'It was started by a pm2 outside this project. Fix: from the project folder run `npx pm2 update` ' +
    '(saves the process list, restarts the daemon on the project\'s Node, restores the list; every app restarts once).'
}
