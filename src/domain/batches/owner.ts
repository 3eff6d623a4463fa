/** Lease owner ids (`host:pid:random`) and whether the process behind one is gone, to reclaim its items at once. */
import { randomBytes } from 'node:crypto'
import os from 'node:os'

/** Owners of the engines alive in this process (tests run several; a process's earlier incarnation is not here). */
const liveHere = new Set<string>()

export function newLeaseOwner (pid = process.pid, host = os.hostname()): string {
  return `${host}:${pid}:${randomBytes(4).toString('hex')}`
}

/** Mark an owner alive in this process until `release` is called. */
export function holdOwner (owner: string): () => void {
  liveHere.add(owner)
  return () => {
    liveHere.delete(owner)
  }
}

function parse (owner: string): { host: string; pid: number } | undefined {
  const m = /^(.*):(\d+):[0-9a-f]+$/.exec(owner)
  return m ? { host: m[1]!, pid: Number(m[2]) } : undefined
}

/**
 * True only when `owner` certainly belongs to a process that no longer runs: same host, and either its pid
 * is not alive or it is our own pid but no engine of ours (a previous incarnation, e.g. a restarted container).
 * Owners on other hosts are never judged here; their leases simply expire.
 */
export function isDeadOwner (owner: string, self: string, host = os.hostname(), alive: (pid: number) => boolean = pidAlive): boolean {
  if (owner === self || liveHere.has(owner)) return false
  const o = parse(owner)
  const s = parse(self)
  if (!o || !s || o.host !== host) return false
  if (o.pid === s.pid) return true
  return !alive(o.pid)
}

export function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
