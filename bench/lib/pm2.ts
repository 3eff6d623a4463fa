/** A private PM2 daemon for the fleet bench: short PM2_HOME under /tmp, `pm2 kill` on every exit path. Never ~/.pm2. */
import { execFile, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { PM2_BIN } from './paths.js'
import { registerCleanup, unregisterCleanup } from './procs.js'

const run = promisify(execFile)

export interface Pm2Proc {
  name: string
  pid: number
  monit: { memory: number; cpu: number }
  pm2_env: { status: string; restart_time: number; pm_uptime: number }
}

export interface PrivatePm2 {
  home: string
  pm2(args: string[], opts?: { cwd?: string; timeoutMs?: number }): Promise<string>
  jlist(): Promise<Pm2Proc[]>
  daemonPid(): number | undefined
  kill(): Promise<void>
}

export function privatePm2 (): PrivatePm2 {
  // PM2's unix sockets live in PM2_HOME; long paths exceed the socket path limit, so keep it short.
  const home = fs.mkdtempSync('/tmp/p2b-')
  const env = { ...process.env, PM2_HOME: home }
  const pm2 = async (args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<string> => {
    const { stdout } = await run(process.execPath, [PM2_BIN, ...args], { cwd: opts.cwd, env, maxBuffer: 32 * 1024 * 1024, timeout: opts.timeoutMs ?? 120_000 })
    return stdout
  }
  const daemonPid = (): number | undefined => {
    try {
      const pid = Number(fs.readFileSync(path.join(home, 'pm2.pid'), 'utf8').trim())
      return Number.isInteger(pid) && pid > 0 ? pid : undefined
    } catch {
      return undefined
    }
  }
  const key = `pm2:${home}`
  /** After `pm2 kill`: SIGKILL a daemon that outlived it, then drop its home. */
  const removeDaemon = (): void => {
    const pid = daemonPid()
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone
      }
    }
    fs.rmSync(home, { recursive: true, force: true })
  }
  const killSync = (): void => {
    try {
      execFileSync(process.execPath, [PM2_BIN, 'kill'], { env, stdio: 'ignore', timeout: 20_000 })
    } catch {
      // fall through to the pid
    }
    removeDaemon()
  }
  const kill = async (): Promise<void> => {
    unregisterCleanup(key)
    await pm2(['kill']).catch(() => undefined)
    removeDaemon()
  }
  registerCleanup(key, kill, killSync)
  return {
    home,
    pm2,
    async jlist () {
      const out = await pm2(['jlist'])
      return JSON.parse(out.slice(out.indexOf('['))) as Pm2Proc[]
    },
    daemonPid,
    kill,
  }
}
