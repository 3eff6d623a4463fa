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

export async function probeHealth (port: number, timeoutMs = 1000, host = '127.0.0.1'): Promise<HealthProbe> {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  try {
    const res = await request(`http://${h}:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) })
    const body = (await res.body.json()) as Record<string, unknown>
    return { reachable: true, status: typeof body['status'] === 'string' ? body['status'] : String(res.statusCode), body }
  } catch {
    return { reachable: false }
  }
}
