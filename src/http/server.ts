/**
 * The tenant's HTTP server, which drains instead of dropping connections: on close it stops accepting, answers
 * whatever still arrives on an open connection (with `Connection: close`), closes a connection only once it has
 * answered on it or it has been idle past the keep-alive time it promised, and cuts what is left at a deadline.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import net from 'node:net'

/**
 * node:http by require(), not an ES import: an ES import builds the module's facade by reading every export, and
 * reading its WebSocket-era exports loads Node's bundled undici (~25 ms and ~3 MB of heap at each tenant's start,
 * for nothing the tenant uses). fastify, a CommonJS package, already loads it this way.
 */
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http')

export interface DrainingServerOptions {
  /** Idle time a kept-alive connection is promised (`Keep-Alive: timeout=N`, N = this / 1000). */
  keepAliveTimeoutMs: number
  /** Longest a request may take to arrive and be answered (Node's requestTimeout). */
  requestTimeoutMs: number
  /** After close() starts, connections still open this long are destroyed. */
  drainDeadlineMs: number
  /** How often idle connections are looked at while draining. */
  sweepMs?: number
  /** Monotonic milliseconds (tests pass their own). */
  clock?: () => number
}

interface Connection {
  /** Requests received and not yet answered on it. */
  active: number
  /** When it last answered (or was opened). */
  idleSince: number
}

export class DrainingServer extends http.Server {
  readonly #o: Required<DrainingServerOptions>
  readonly #connections = new Map<net.Socket, Connection>()
  readonly #open = new Set<ServerResponse>()
  #draining = false
  #sweep: NodeJS.Timeout | undefined
  #deadline: NodeJS.Timeout | undefined

  constructor (handler: RequestListener, opts: DrainingServerOptions) {
    super()
    this.#o = { sweepMs: 250, clock: () => performance.now(), ...opts }
    this.keepAliveTimeout = opts.keepAliveTimeoutMs
    this.requestTimeout = opts.requestTimeoutMs
    this.on('connection', (socket: net.Socket) => {
      this.#connections.set(socket, { active: 0, idleSince: this.#o.clock() })
      socket.once('close', () => this.#connections.delete(socket))
    })
    // Registered before the app's handler, so a response started while draining carries `Connection: close` from its first byte.
    this.on('request', (req: IncomingMessage, res: ServerResponse) => this.#track(req, res))
    this.on('request', handler)
  }

  /** True once close() was called. */
  get draining (): boolean {
    return this.#draining
  }

  /** Connections open right now (tests and logs). */
  get connectionCount (): number {
    let n = 0
    for (const socket of this.#connections.keys()) if (!socket.destroyed) n++
    return n
  }

  /**
   * Stop accepting and drain. Not http.Server#close: since Node 19 that destroys every idle keep-alive connection at
   * once, and a request the client is writing on one at that instant is reset (ECONNRESET) instead of answered.
   * The callback runs when the last connection has closed.
   */
  override close (callback?: (err?: Error) => void): this {
    if (this.#draining) {
      if (callback) this.once('close', () => callback())
      return this
    }
    this.#draining = true
    net.Server.prototype.close.call(this, callback)
    // Responses already under way finish with `Connection: close`, so their clients open the next connection elsewhere.
    for (const res of this.#open) if (!res.headersSent) res.setHeader('connection', 'close')
    this.#sweep = setInterval(() => this.#closeIdle(), this.#o.sweepMs).unref()
    this.#deadline = setTimeout(() => this.closeAllConnections(), this.#o.drainDeadlineMs).unref()
    this.once('close', () => {
      clearInterval(this.#sweep)
      clearTimeout(this.#deadline)
    })
    this.#closeIdle()
    return this
  }

  #track (req: IncomingMessage, res: ServerResponse): void {
    const conn = this.#connections.get(req.socket)
    if (conn) conn.active++
    if (this.#draining) res.setHeader('connection', 'close')
    this.#open.add(res)
    res.once('close', () => {
      this.#open.delete(res)
      if (!conn) return
      conn.active--
      conn.idleSince = this.#o.clock()
    })
  }

  /**
   * Close the connections idle for longer than the keep-alive time they were promised: by then a client that honours
   * `Keep-Alive: timeout=N` (Node's agent, undici, fetch) has already dropped them, so closing cannot race its next
   * request. A connection that was opened and never used counts from its opening. A connection that is answering
   * closes by itself after that answer (`Connection: close`).
   */
  #closeIdle (): void {
    const now = this.#o.clock()
    for (const [socket, conn] of this.#connections) {
      if (conn.active === 0 && now - conn.idleSince >= this.keepAliveTimeout + this.keepAliveTimeoutBuffer) socket.destroy()
    }
  }
}

/** A fastify `serverFactory`: the draining server with the tenant's timeouts (typed as a plain http.Server for fastify). */
export function drainingServerFactory (opts: DrainingServerOptions): (handler: RequestListener) => Server {
  return (handler) => new DrainingServer(handler, opts)
}
