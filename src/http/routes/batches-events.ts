/**
 * Server-Sent Events of one batch: `item` per finished CPF (with an id), `progress` on count changes, `done` at the
 * end; heartbeats; a `retry:` hint. Last-Event-ID resumes after the item it names; a stopping server sends a last
 * `reconnect` event (with the id to resume from) instead of ending the stream silently.
 */
import type { ServerResponse } from 'node:http'
import type { BatchService } from '../../domain/batches/service.js'
import type { SharedProgress } from './batches-progress.js'
import { batchView, countsView, itemView } from './batches-view.js'

export interface EventStreamOptions {
  /** Comment line sent this often so proxies and clients keep the connection. */
  heartbeatMs?: number
  /** Re-read the database this often even without a local notification (another process may be working). */
  pollMs?: number
  /** While nothing changes, recompute the `progress` extras this often anyway: the pace and time left follow the clock. */
  progressRefreshMs?: number
  /** The clock of that refresh. */
  now?: () => number
}

/** What one stream is run with. */
export interface StreamOptions extends Pick<EventStreamOptions, 'heartbeatMs' | 'pollMs'> {
  /**
   * More for each `progress` event (counts by outcome, pace), shared by the streams of a batch: computed when
   * something changed (the counts or the batch's state moved, a local notification), not on every poll, and once
   * for all the batch's streams; while nothing changes, at most once per refresh interval.
   */
  progress?: SharedProgress | undefined
}

/** How many event streams may be open at once: for the whole tenant, and per client address. */
export interface StreamLimits {
  total: number
  perAddress: number
}

/**
 * Open-stream accounting. Each stream holds a socket, timers and ~40 KB; without a bound one key holder could open
 * thousands from one address.
 */
export class StreamSlots {
  #total = 0
  readonly #byClient = new Map<string, number>()
  readonly #limits: () => StreamLimits

  constructor (limits: () => StreamLimits) {
    this.#limits = limits
  }

  /** A slot for `client` (release it when the stream ends), or which limit is full. */
  take (client: string): { release: () => void } | { full: 'tenant' | 'address'; limit: number } {
    const { total, perAddress } = this.#limits()
    const mine = this.#byClient.get(client) ?? 0
    if (mine >= perAddress) return { full: 'address', limit: perAddress }
    if (this.#total >= total) return { full: 'tenant', limit: total }
    this.#total++
    this.#byClient.set(client, mine + 1)
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        this.#total--
        const left = (this.#byClient.get(client) ?? 1) - 1
        if (left > 0) this.#byClient.set(client, left)
        else this.#byClient.delete(client)
      },
    }
  }

  get open (): number {
    return this.#total
  }
}

/**
 * Where an item event sits in its batch's stream: the item's finished_at and rowid. The repository keeps finished_at
 * strictly increasing in commit order within a batch, so "after this position" is exact, in this process or the next.
 */
export interface StreamPosition {
  at: number
  key: number
}

/** The SSE id of an item event, `<finished_at>.<rowid>`: what EventSource sends back as Last-Event-ID. */
export const eventId = (p: StreamPosition): string => `${p.at}.${p.key}`

/** A Last-Event-ID an item event carried, or undefined (absent, `done`, or not one of ours: start from the beginning). */
export function parseEventId (id: string | string[] | undefined): StreamPosition | undefined {
  const m = typeof id === 'string' ? /^(\d{1,16})\.(\d{1,16})$/.exec(id.trim()) : null
  return m ? { at: Number(m[1]), key: Number(m[2]) } : undefined
}

/** Reconnection delay the stream asks EventSource clients for. */
export const RETRY_MS = 5000
/** Sent with the last event of a stopping server: the next process is already up, come back soon. */
const RECONNECT_RETRY_MS = 1000
const COALESCE_MS = 50

/**
 * Stream the batch's events on a response already hijacked from fastify, from the start or after `from`. Resolves
 * when the stream ends (after `done`, on client disconnect, or when `stop()` is called at server shutdown, which
 * first sends `reconnect`).
 */
export function streamBatchEvents (
  res: ServerResponse,
  service: BatchService,
  batchId: string,
  headers: Record<string, string | number | string[] | undefined>,
  opts: StreamOptions = {},
  from?: StreamPosition
): { done: Promise<void>; stop: () => void } {
  let position: StreamPosition = from ?? { at: 0, key: 0 }
  let lastProgress = ''
  let closed = false
  let pumping = false
  let again = false
  let scheduled: NodeJS.Timeout | undefined
  let finish!: () => void
  const done = new Promise<void>((resolve) => (finish = resolve))

  const clean = {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // The connection is dedicated to the stream: once it ends, close it, so a server shutdown never waits on it.
    connection: 'close',
    'x-accel-buffering': 'no',
  }
  const base = Object.fromEntries(Object.entries(headers).filter(([k, v]) => v !== undefined && k.toLowerCase() !== 'content-length')) as Record<string, string | number | string[]>
  res.writeHead(200, { ...base, ...clean })
  res.write(`retry: ${RETRY_MS}\n\n`)

  /** Write one chunk; wait for the socket to drain when its buffer is full. */
  const write = async (chunk: string): Promise<void> => {
    if (closed) return
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const go = (): void => {
          res.off('drain', go)
          res.off('close', go)
          resolve()
        }
        res.on('drain', go)
        res.on('close', go)
      })
    }
  }
  const event = (name: string, data: unknown, id?: string): Promise<void> =>
    write(`${id ? `id: ${id}\n` : ''}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)

  /** Stop everything; `gone` = the client went away, so drop the socket rather than finish the response on it. */
  const end = (gone = false): void => {
    if (closed) return
    closed = true
    unsubscribe()
    share?.leave()
    clearInterval(heartbeat)
    clearInterval(poll)
    clearTimeout(scheduled)
    if (gone) res.destroy()
    else if (!res.writableEnded) res.end()
    finish()
  }

  const pump = async (): Promise<void> => {
    if (closed) return
    if (pumping) {
      again = true
      return
    }
    pumping = true
    try {
      do {
        again = false
        const batch = service.get(batchId)
        if (!batch) {
          // Purged (retention) while someone watched.
          await event('done', { lote_id: batchId, status: 'REMOVIDO' }, 'done')
          end()
          return
        }
        for (const { key, finishedAt } of service.finishedSince(batchId, position.at)) {
          if (closed) return
          if (finishedAt === position.at && key <= position.key) continue // sent already (or before Last-Event-ID)
          position = { at: finishedAt, key }
          const item = service.item(key)
          if (item) await event('item', { lote_id: batchId, ...itemView(item) }, eventId(position))
        }
        const counts = service.counts(batchId)
        const head = { lote_id: batchId, status: batch.status, ...countsView(counts) }
        // What the extras depend on, as far as a stream can tell cheaply: the counts and the batch's state. The same
        // for every stream of the batch (an item that finished moves the counts, whatever position a stream resumed from).
        const extras = share?.extras(JSON.stringify([head, batch.finishedAt]))
        const progress = JSON.stringify({ ...head, ...extras })
        if (progress !== lastProgress) {
          lastProgress = progress
          await write(`event: progress\ndata: ${progress}\n\n`)
        }
        if (batch.finishedAt !== null) {
          await event('done', batchView(batch, counts), 'done')
          end()
          return
        }
        // eslint-disable-next-line no-unmodified-loop-condition -- `closed` is set by the close handler while we await
      } while (again && !closed)
    } catch {
      // The database closed under us (shutdown): end the stream; the client reconnects to the next process.
      end()
    } finally {
      pumping = false
    }
  }

  const schedule = (): void => {
    if (scheduled || closed) return
    scheduled = setTimeout(() => {
      scheduled = undefined
      void pump()
    }, COALESCE_MS)
  }

  const share = opts.progress?.join(batchId)
  const unsubscribe = service.subscribe(batchId, () => {
    share?.changed()
    schedule()
  })
  const heartbeat = setInterval(() => { void write(': ping\n\n') }, opts.heartbeatMs ?? 15_000)
  const poll = setInterval(() => { void pump() }, opts.pollMs ?? 1000)
  /** Server shutdown: tell the client to come back (the next process resumes from the id), then end. */
  const stop = (): void => {
    if (closed) return
    const lastId = position.at > 0 ? eventId(position) : null
    res.write(`retry: ${RECONNECT_RETRY_MS}\nevent: reconnect\ndata: ${JSON.stringify({
      lote_id: batchId,
      motivo: 'servidor_reiniciando',
      mensagem: 'O serviço está reiniciando. Reconecte para continuar de onde parou: o EventSource reconecta sozinho; ' +
        `com curl, repita o pedido com o cabeçalho Last-Event-ID${lastId ? `: ${lastId}` : ' (nenhum item recebido ainda: sem cabeçalho)'}.`,
      last_event_id: lastId,
    })}\n\n`)
    end()
  }

  res.on('close', () => end(true))
  void pump()
  return { done, stop }
}
