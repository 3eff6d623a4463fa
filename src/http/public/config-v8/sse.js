// @ts-check
/**
 * Server-Sent Events over fetch (EventSource cannot send the key as a header): parses `event`/`data`/`id`/`retry`,
 * and reconnects by itself with Last-Event-ID after the stream drops (a tenant reload, a network blip).
 */

/**
 * @typedef {object} StreamHandlers
 * @property {(name: string, data: any, id: string | null) => void} event every event with its parsed JSON data
 * @property {(state: 'open' | 'reconnecting' | 'closed', detail?: string) => void} state connection changes
 * @property {() => void} unauthorized the key was refused (401)
 */

const MIN_RETRY_MS = 500
const MAX_RETRY_MS = 10_000

/**
 * Follow a stream until `stop()` or until the server ends it for good (HTTP 204, or an event named `final`).
 * @param {string} path relative to the page
 * @param {string | null} key
 * @param {StreamHandlers} on
 * @param {{ retryMs?: number, isFinal?: (name: string, data: any) => boolean }} [opts]
 */
export function follow (path, key, on, opts = {}) {
  /** @type {string | null} */
  let lastId = null
  let retryMs = opts.retryMs ?? 2000
  let stopped = false
  let failures = 0
  /** @type {AbortController | null} */
  let abort = null
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer

  const finish = () => {
    stopped = true
    clearTimeout(timer)
    abort?.abort()
    on.state('closed')
  }

  /** @param {string} block */
  const dispatch = (block) => {
    let name = 'message'
    let data = ''
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue
      const i = line.indexOf(':')
      const field = i < 0 ? line : line.slice(0, i)
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '')
      if (field === 'event') name = value
      else if (field === 'data') data += (data ? '\n' : '') + value
      else if (field === 'id') lastId = value
      else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, Number(value)))
    }
    if (!data) return
    let parsed
    try { parsed = JSON.parse(data) } catch { parsed = data }
    on.event(name, parsed, lastId)
    if (opts.isFinal?.(name, parsed)) finish()
  }

  const connect = async () => {
    if (stopped) return
    abort = new AbortController()
    /** @type {Record<string, string>} */
    const headers = { accept: 'text/event-stream', authorization: 'Bearer ' + (key ?? '') }
    if (lastId !== null) headers['last-event-id'] = lastId
    try {
      const res = await fetch(path, { headers, cache: 'no-store', credentials: 'omit', signal: abort.signal })
      if (res.status === 401) { stopped = true; on.unauthorized(); return }
      if (res.status === 204 || res.status === 404) { finish(); return }
      if (!res.ok || !res.body) throw new Error('HTTP ' + res.status)
      failures = 0
      on.state('open')
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value.replace(/\r\n?/g, '\n')
        let cut
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          dispatch(buffer.slice(0, cut))
          buffer = buffer.slice(cut + 2)
          if (stopped) return
        }
      }
    } catch (err) {
      if (stopped) return
      failures++
      on.state('reconnecting', err instanceof Error ? err.message : String(err))
    }
    if (stopped) return
    // The stream ended without a final event (the tenant restarted, a proxy closed it): come back.
    on.state('reconnecting')
    timer = setTimeout(() => { void connect() }, Math.min(MAX_RETRY_MS, retryMs * Math.max(1, failures)))
  }

  void connect()
  return { stop: () => { if (!stopped) finish() } }
}
