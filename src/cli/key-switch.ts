/**
 * After a key was rewritten in its file: make the running process re-read the file (SIGHUP: no restart, no dropped
 * request) and check the switch from outside: the old key refused, the new one accepted. tenant:key and console:key
 * both end here; a process that is not running simply starts with the new key.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { CliError } from './errors.js'
import { probeHealth, reachHost } from './net.js'
import { pm2List } from './pm2.js'

/** How long a running process gets to switch to the new key after SIGHUP. */
const SWITCH_WITHIN_MS = 5000

export interface KeySwitch {
  /** How the operator names it, sentence-initial: "Tenant 6001", "The console". */
  name: string
  /** Its PM2 app. */
  app: string
  /** Where it listens (its file's PORT and HOST). */
  port: number
  host: string
  /** A GET that answers 200 to the right key and 401 to a wrong one. */
  path: string
  oldKey: string
  newKey: string
  /** The command that restarts it, for when the switch fails. */
  restart: string
}

/** Switch the running process, if any, to the new key; 0 when it runs the new key (or runs not at all), 1 when it cannot be told. */
export async function switchRunningKey (s: KeySwitch, out: (line: string) => void): Promise<number> {
  const lower = s.name.charAt(0).toLowerCase() + s.name.slice(1)
  if (!(await probeHealth(s.port, 1000, s.host)).reachable) {
    out(`${s.name} is not running: it starts with the new key.`)
    return 0
  }
  const proc = (await pm2List()).find((p) => p.name === s.app && p.status === 'online')
  if (!proc) {
    out(`${s.name} answers but is not under this PM2: it accepts the OLD key until it re-reads its file. Send it SIGHUP (kill -HUP <pid>) or restart it.`)
    return 1
  }
  process.kill(proc.pid, 'SIGHUP')
  const url = `http://${reachHost(s.host)}:${s.port}${s.path}`
  const deadline = Date.now() + SWITCH_WITHIN_MS
  // Ask with the old key until it is refused: until the switch it is a right key (the per-client count of wrong
  // keys, which locks an address out, sees exactly one wrong key per rotation).
  for (;;) {
    const status = await bearerStatus(url, s.oldKey)
    if (status === 401) break
    if (status !== 200) throw new CliError(`${lower} answered ${status} while switching keys; restart it: ${s.restart}`)
    if (Date.now() > deadline) throw new CliError(`${lower} (pid ${proc.pid}) did not switch to the new key within ${SWITCH_WITHIN_MS / 1000} s; restart it: ${s.restart}`)
    await sleep(100)
  }
  const fresh = await bearerStatus(url, s.newKey)
  if (fresh !== 200) throw new CliError(`${lower} refused the new key (${fresh}); restart it: ${s.restart}`)
  out(`${s.name} (pid ${proc.pid}, not restarted) now accepts only the new key: the old one gets 401.`)
  return 0
}

/** Status of a GET of `url` with `Authorization: Bearer <key>`. */
async function bearerStatus (url: string, key: string): Promise<number> {
  const res = await request(url, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(2000) })
  await res.body.dump()
  return res.statusCode
}
