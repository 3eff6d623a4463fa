/** The sandbox upstream as a separate process (`node bin/clt-v8-sandbox.js --port S`) and its /__sandbox control plane. */
import path from 'node:path'
import { callJson, freePort, waitReady } from './net.js'
import { SANDBOX_BIN } from './paths.js'
import { startChild, stopChild, type Child } from './procs.js'

export interface SandboxStats {
  routes: Record<string, number>
  tokens_issued: number
  consults_created: number
  authorizations: number
  simulations_created: number
  kentro_writes: number
  presenca_calls: number
  faults_injected: number
  faults_active: number
}

export interface SandboxPerson {
  cpf: string
  nome: string
  scenario: string
}

export interface BenchSandbox {
  url: string
  port: number
  child: Child
  stats(): Promise<SandboxStats>
  /** Sum of every upstream route call counted by the sandbox (control routes excluded). */
  upstreamCalls(): Promise<number>
  reset(config?: boolean): Promise<void>
  faults(rules: Record<string, unknown> | Array<Record<string, unknown>>): Promise<void>
  clearFaults(): Promise<void>
  configure(c: Record<string, unknown>): Promise<void>
  people(scenario: string, limit: number): Promise<SandboxPerson[]>
  stop(): Promise<void>
}

export async function startSandboxProcess (logsDir: string, args: string[] = []): Promise<BenchSandbox> {
  const port = await freePort()
  // warn: per-request info lines would make the simulated upstream pay a logging cost the real one does not put on us.
  const child = startChild('sandbox', process.execPath, [SANDBOX_BIN, '--port', String(port), '--log-level', 'warn', ...args], {
    logFile: path.join(logsDir, 'sandbox.log'),
  })
  await waitReady(port, '/__sandbox/stats', { child, timeoutMs: 20_000 })
  const url = `http://127.0.0.1:${port}`
  const ok = async <T>(method: 'GET' | 'POST' | 'DELETE', p: string, body?: unknown): Promise<T> => {
    const res = await callJson<T>(method, `${url}${p}`, body === undefined ? {} : { body })
    if (res.status >= 400) throw new Error(`sandbox ${method} ${p} → ${res.status}: ${JSON.stringify(res.body)}`)
    return res.body
  }
  const stats = (): Promise<SandboxStats> => ok<SandboxStats>('GET', '/__sandbox/stats')
  return {
    url,
    port,
    child,
    stats,
    async upstreamCalls () {
      const s = await stats()
      return Object.values(s.routes).reduce((a, n) => a + n, 0)
    },
    async reset (config = false) {
      await ok('POST', '/__sandbox/reset', { config })
    },
    async faults (rules) {
      await ok('POST', '/__sandbox/faults', rules)
    },
    async clearFaults () {
      await ok('DELETE', '/__sandbox/faults')
    },
    async configure (c) {
      await ok('POST', '/__sandbox/config', c)
    },
    async people (scenario, limit) {
      return (await ok<{ people: SandboxPerson[] }>('GET', `/__sandbox/people?scenario=${scenario}&limit=${limit}`)).people
    },
    stop: () => stopChild(child),
  }
}
