/** Small network probes for operator commands: is a port taken, what does a tenant's /health say. */
import net from 'node:net'
import { request } from 'undici'

/** True when something accepts connections on the port, or binding it fails with EADDRINUSE. */
export async function portInUse (port: number, host = '0.0.0.0'): Promise<boolean> {
  const connects = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' })
    socket.setTimeout(500)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(false))
  })
  if (connects) return true
  return new Promise<boolean>((resolve) => {
    const server = net.createServer()
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' || err.code === 'EACCES'))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(false)))
  })
}

export interface HealthProbe {
  reachable: boolean
  status?: string
  body?: Record<string, unknown>
}

/** Bind addresses that mean "every interface": reached on loopback from this machine. */
const WILDCARD = new Set(['0.0.0.0', '::', '[::]', ''])

/** A tenant's (or the console's) bind address as this machine reaches it, ready for a URL: IPv6 in brackets. */
export function reachHost (host: string | undefined): string {
  if (host === undefined || WILDCARD.has(host)) return '127.0.0.1'
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

export async function probeHealth (port: number, timeoutMs = 1000, host = '127.0.0.1'): Promise<HealthProbe> {
  const h = reachHost(host)
  try {
    const res = await request(`http://${h}:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) })
    const body = (await res.body.json()) as Record<string, unknown>
    return { reachable: true, status: typeof body['status'] === 'string' ? body['status'] : String(res.statusCode), body }
  } catch {
    return { reachable: false }
  }
}
