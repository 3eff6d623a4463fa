/**
 * The PM2 daemon's process list, asked over its RPC socket with the pm2 package's own client (what `pm2 jlist`
 * does, without spawning a CLI per refresh), and never starting a daemon: no socket, or no answer, is "no PM2".
 * Only names, states and counters leave this file; PM2's answer also carries each app's environment, dropped here.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

export interface Pm2State {
  name: string
  status: string
  restarts: number
  pid: number
  /** When the current process started (ms since epoch), when PM2 says. */
  startedAt?: number
}

interface RpcClient {
  call(method: string, arg: unknown, cb: (err: Error | null, data: unknown) => void): void
}
interface Pm2Client {
  client?: RpcClient
  pingDaemon(cb: (alive: boolean) => void): void
  launchRPC(cb: (err?: Error | null) => void): void
  disconnectRPC(cb?: () => void): void
}

interface Pm2Modules {
  Client: new (opts: { conf: Record<string, unknown> }) => Pm2Client
  constants: Record<string, unknown>
  paths: (home: string) => Record<string, unknown>
}
let modules: Pm2Modules | undefined
/** pm2's client is a large module graph: loaded on the first daemon seen, not when a console without PM2 starts. */
function pm2Modules (): Pm2Modules {
  if (!modules) {
    const require = createRequire(import.meta.url)
    modules = { Client: require('pm2/lib/Client.js'), constants: require('pm2/constants.js'), paths: require('pm2/paths.js') }
  }
  return modules
}

/**
 * PM2's settings for the daemon under `home`, built as pm2's own `new pm2.custom({ pm2_home })` builds them (its
 * constants, then the file layout of that home): process.env.PM2_HOME is neither set nor decides the home, and two
 * homes in one process stay apart (pm2's constants module is loaded once, with whatever home the environment had).
 * The sockets are named outright, since pm2's layout lets PM2_DAEMON_RPC_PORT/PM2_DAEMON_PUB_PORT move them.
 */
export function pm2Conf (home: string): Record<string, unknown> {
  const { constants, paths } = pm2Modules()
  return {
    ...constants,
    ...paths(home),
    DAEMON_RPC_PORT: path.join(home, 'rpc.sock'),
    DAEMON_PUB_PORT: path.join(home, 'pub.sock'),
  }
}

type RawProcess = { name?: string; pid?: number; pm2_env?: { status?: string; restart_time?: number; pm_uptime?: number } }

export class Pm2Rpc {
  readonly #home: string
  #client: Pm2Client | undefined
  #connecting: Promise<Pm2Client | undefined> | undefined

  constructor (home: string) {
    this.#home = home
  }

  /** The daemon's processes, or undefined when no daemon answers within timeoutMs. */
  async list (timeoutMs = 2000): Promise<Pm2State[] | undefined> {
    const client = await this.#connect(timeoutMs)
    if (!client?.client) return undefined
    const raw = await new Promise<unknown>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs)
      client.client!.call('getMonitorData', {}, (err, data) => {
        clearTimeout(timer)
        resolve(err ? undefined : data)
      })
    })
    if (!Array.isArray(raw)) {
      this.close() // a dead or stuck daemon: start afresh next time
      return undefined
    }
    return (raw as RawProcess[]).map((p) => ({
      name: String(p.name ?? ''),
      status: p.pm2_env?.status ?? 'unknown',
      restarts: p.pm2_env?.restart_time ?? 0,
      pid: p.pid ?? 0,
      ...(typeof p.pm2_env?.pm_uptime === 'number' ? { startedAt: p.pm2_env.pm_uptime } : {}),
    }))
  }

  close (): void {
    const c = this.#client
    this.#client = undefined
    if (c) {
      try {
        c.disconnectRPC(() => undefined)
      } catch {
        // already closed
      }
    }
  }

  async #connect (timeoutMs: number): Promise<Pm2Client | undefined> {
    if (this.#client) return this.#client
    // Without the socket file there is no daemon; the client below would create PM2_HOME's files, so stop here.
    if (!fs.existsSync(path.join(this.#home, 'rpc.sock'))) return undefined
    this.#connecting ??= this.#open(timeoutMs).finally(() => { this.#connecting = undefined })
    return this.#connecting
  }

  async #open (timeoutMs: number): Promise<Pm2Client | undefined> {
    const client = new (pm2Modules().Client)({ conf: pm2Conf(this.#home) })
    const alive = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      client.pingDaemon((ok) => {
        clearTimeout(timer)
        resolve(ok)
      })
    })
    if (!alive) return undefined
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      client.launchRPC((err) => {
        clearTimeout(timer)
        resolve(!err)
      })
    })
    if (!connected) {
      client.disconnectRPC(() => undefined)
      return undefined
    }
    this.#client = client
    return client
  }
}
