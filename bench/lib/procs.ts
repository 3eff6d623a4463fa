/** Every process a bench run starts: each in its own process group, stopped group-wide on finish, failure or signal. */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { sleep } from './stats.js'

export interface Child {
  name: string
  pid: number
  proc: ChildProcess
  /** Where its stdout and stderr go (read on failure to say why it died). */
  logFile: string
  /** Resolves with the exit code (or the signal name) once it has exited. */
  exited: Promise<number | string>
  hasExited(): boolean
}

const children = new Set<Child>()
/** Async clean-ups beyond child processes (e.g. `pm2 kill` of a private daemon). */
const cleanups = new Map<string, { run: () => Promise<void>; runSync: () => void }>()

export interface StartOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  logFile: string
}

export function startChild (name: string, command: string, args: string[], opts: StartOptions): Child {
  const fd = fs.openSync(opts.logFile, 'a')
  let proc: ChildProcess
  try {
    // detached: the child leads its own process group, so a group kill also reaches anything it forks.
    proc = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', fd, fd] })
  } finally {
    fs.closeSync(fd)
  }
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`)
  let done = false
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      done = true
      children.delete(child)
      resolve(code ?? signal ?? 'unknown')
    })
  })
  // A child must never keep the runner alive on its own; the runner stops it explicitly.
  proc.unref()
  const child: Child = { name, pid: proc.pid, proc, logFile: opts.logFile, exited, hasExited: () => done }
  children.add(child)
  return child
}

function signalGroup (pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

/** SIGTERM to the child's group, then SIGKILL after `graceMs`. */
export async function stopChild (child: Child, graceMs = 6000): Promise<void> {
  if (!child.hasExited()) {
    signalGroup(child.pid, 'SIGTERM')
    const killed = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)])
    if (!killed) {
      signalGroup(child.pid, 'SIGKILL')
      await Promise.race([child.exited, sleep(2000)])
    }
  }
  // Stray grandchildren in the group (none expected) go too.
  signalGroup(child.pid, 'SIGKILL')
  children.delete(child)
}

export function registerCleanup (key: string, run: () => Promise<void>, runSync: () => void): void {
  cleanups.set(key, { run, runSync })
}

export function unregisterCleanup (key: string): void {
  cleanups.delete(key)
}

/** Stop everything this run started (children in parallel, then the other clean-ups). */
export async function stopAll (): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, 3000)))
  for (const [key, c] of [...cleanups]) {
    cleanups.delete(key)
    await c.run().catch(() => c.runSync())
  }
}

/** Last resort on process exit: no awaiting possible, so SIGKILL every group and run the sync clean-ups. */
export function killAllSync (): void {
  for (const c of children) signalGroup(c.pid, 'SIGKILL')
  children.clear()
  for (const c of cleanups.values()) {
    try {
      c.runSync()
    } catch {
      // best effort
    }
  }
  cleanups.clear()
}

export function liveChildren (): string[] {
  return [...children].map((c) => `${c.name}(${c.pid})`)
}

/** The end of a child's log, for error messages. */
export function logTail (child: Child, lines = 15): string {
  try {
    return fs.readFileSync(child.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}
