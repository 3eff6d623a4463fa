/** Loopback helpers: a free port, JSON calls, waiting until a server answers. */
import http from 'node:http'
import net from 'node:net'
import { request } from 'undici'
import { logTail, type Child } from './procs.js'
import { sleep } from './stats.js'

export async function freePort (): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as net.AddressInfo
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

export interface JsonResponse<T = unknown> {
  status: number
  body: T
}

export async function callJson<T = Record<string, unknown>> (
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}
): Promise<JsonResponse<T>> {
  const res = await request(url, {
    method,
    headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  })
  const text = await res.body.text()
  let body: unknown = text
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    // not JSON: keep the text
  }
  return { status: res.statusCode, body: body as T }
}

/** One GET on a fresh connection (like curl, no keep-alive): the status, or the error code. */
export function freshGet (port: number, urlPath: string, timeoutMs = 5000): Promise<number | string> {
  return agentGet(false, port, urlPath, timeoutMs)
}

/** One GET through `agent` (an http.Agent with keepAlive reuses its connections, like most API clients): the status, or the error code. */
export function agentGet (agent: http.Agent | false, port: number, urlPath: string, timeoutMs = 5000): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent, timeout: timeoutMs }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}

/** Poll `path` until it answers 200; fails early (with the log tail) if `child` exits first. */
export async function waitReady (port: number, urlPath: string, opts: { child?: Child; timeoutMs?: number; everyMs?: number } = {}): Promise<number> {
  const started = Date.now()
  const end = started + (opts.timeoutMs ?? 20_000)
  while (Date.now() < end) {
    if (opts.child?.hasExited()) throw new Error(`${opts.child.name} exited before answering ${urlPath}:\n${logTail(opts.child)}`)
    if ((await freshGet(port, urlPath, 1000)) === 200) return Date.now()
    await sleep(opts.everyMs ?? 20)
  }
  throw new Error(`port ${port} did not answer ${urlPath} with 200 within ${opts.timeoutMs ?? 20_000} ms${opts.child ? `:\n${logTail(opts.child)}` : ''}`)
}
