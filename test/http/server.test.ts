/** The draining server over real sockets with keep-alive clients: close() answers, never resets, and ends within its deadline. */
import http from 'node:http'
import net from 'node:net'
import t from 'tap'
import { Pool } from 'undici'
import { DrainingServer } from '../../src/http/server.js'
import { waitFor } from '../fixtures/batches.js'

interface Started {
  server: DrainingServer
  port: number
  closed: Promise<void>
}

/** A draining server whose handler answers `/slow?ms=N` after N ms, `/hang` never, anything else at once. */
async function start (opts: Partial<ConstructorParameters<typeof DrainingServer>[1]> = {}): Promise<Started> {
  const server = new DrainingServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/hang') return
    const body = JSON.stringify({ ok: true, path: url.pathname })
    const send = (): void => { res.writeHead(200, { 'content-type': 'application/json' }).end(body) }
    if (url.pathname === '/slow') setTimeout(send, Number(url.searchParams.get('ms') ?? 100))
    else send()
  }, { keepAliveTimeoutMs: 5000, requestTimeoutMs: 60_000, drainDeadlineMs: 20_000, ...opts })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  let markClosed!: () => void
  const closed = new Promise<void>((resolve) => (markClosed = resolve))
  server.once('close', () => markClosed())
  return { server, port: (server.address() as net.AddressInfo).port, closed }
}

/** GET on a keep-alive http.Agent; resolves status + Connection header, or the error code. */
function agentGet (agent: http.Agent, port: number, path: string): Promise<{ status: number; connection: string | undefined } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }))
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }))
  })
}

t.test('requests sent on idle kept-alive connections after close() are answered with Connection: close', async (t) => {
  const { server, port, closed } = await start()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 4 })
  t.teardown(() => { agent.destroy(); return pool.close() })
  // Four connections each, all idle and kept alive.
  const warm = await Promise.all([
    ...Array.from({ length: 4 }, () => agentGet(agent, port, '/slow?ms=30')),
    ...Array.from({ length: 4 }, () => pool.request({ path: '/slow?ms=30', method: 'GET' }).then(async (r) => { await r.body.dump(); return r.statusCode })),
  ])
  t.same(warm.slice(4), [200, 200, 200, 200], 'undici warm-up answered')
  t.equal(server.connectionCount, 8, 'eight kept-alive connections open')
  t.equal(Object.values(agent.freeSockets).flat().length, 4, 'the http.Agent holds four idle sockets')

  server.close()
  // The clients do not know yet: they reuse the idle connections (what Node's server.close() would reset).
  const after = await Promise.all([
    ...Array.from({ length: 4 }, () => agentGet(agent, port, '/')),
    ...Array.from({ length: 4 }, () => pool.request({ path: '/', method: 'GET' }).then(async (r) => { await r.body.dump(); return { status: r.statusCode, connection: r.headers['connection'] } }, (err: Error & { code?: string }) => ({ error: err.code ?? err.message }))),
  ])
  t.same(after, Array.from({ length: 8 }, () => ({ status: 200, connection: 'close' })), 'every request answered 200 with Connection: close')
  await closed
  t.equal(server.connectionCount, 0, 'every connection closed after its answer; close completed')
})

t.test('a request in flight when close() starts finishes, and tells its client to go', async (t) => {
  const { server, port, closed } = await start()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  const arrived = new Promise((resolve) => server.once('request', resolve))
  const pending = agentGet(agent, port, '/slow?ms=300')
  await arrived
  server.close()
  t.same(await pending, { status: 200, connection: 'close' }, 'answered, with Connection: close')
  await closed
  t.pass('closed once the answer was sent')
})

t.test('client loops hammering kept-alive connections through close(): none fails, each moves on after Connection: close', async (t) => {
  // Two servers stand for the old and the new process; a client moves to the new one when told Connection: close.
  const old = await start()
  const next = await start()
  t.teardown(() => new Promise<void>((resolve) => { next.server.close(); next.closed.then(resolve, resolve) }))
  let moved = false
  const failures: string[] = []
  let answered = 0
  let afterClose = 0
  let running = true
  const loops: Array<Promise<void>> = []
  const agents: http.Agent[] = []
  const pools: Pool[] = []
  t.teardown(async () => {
    for (const a of agents) a.destroy()
    await Promise.all(pools.map((p) => p.close()))
  })
  for (let i = 0; i < 4; i++) {
    // http.Agent with keepAlive, one socket per loop: the loop's connection is reused request after request.
    const oldAgent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const nextAgent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    agents.push(oldAgent, nextAgent)
    loops.push((async () => {
      let onOld = true
      // eslint-disable-next-line no-unmodified-loop-condition -- cleared by the test body while the loops await
      while (running) {
        const r = await agentGet(onOld ? oldAgent : nextAgent, onOld ? old.port : next.port, '/')
        if ('error' in r) failures.push(`http.Agent: ${r.error}`)
        else if (r.status !== 200) failures.push(`http.Agent: ${r.status}`)
        else {
          answered++
          if (moved && onOld) afterClose++
          if (onOld && r.connection === 'close') onOld = false
        }
      }
    })())
    // undici Pool (what fetch and undici.request use), one connection per loop.
    const oldPool = new Pool(`http://127.0.0.1:${old.port}`, { connections: 1 })
    const nextPool = new Pool(`http://127.0.0.1:${next.port}`, { connections: 1 })
    pools.push(oldPool, nextPool)
    loops.push((async () => {
      let onOld = true
      // eslint-disable-next-line no-unmodified-loop-condition -- cleared by the test body while the loops await
      while (running) {
        try {
          const res = await (onOld ? oldPool : nextPool).request({ path: '/', method: 'GET' })
          await res.body.dump()
          if (res.statusCode !== 200) failures.push(`undici: ${res.statusCode}`)
          else {
            answered++
            if (moved && onOld) afterClose++
            if (onOld && res.headers['connection'] === 'close') onOld = false
          }
        } catch (err) {
          failures.push(`undici: ${(err as { code?: string }).code ?? (err as Error).message}`)
        }
      }
    })())
  }
  // Close once every loop is under way (however long that takes on a busy machine).
  await waitFor('the loops to be busy', () => answered >= 50, 30_000)
  const before = answered
  old.server.close()
  moved = true
  await old.closed
  await waitFor('answers from the next server', () => answered > before + 20, 30_000)
  running = false
  await Promise.all(loops)
  t.same(failures, [], `no failed request (${answered} answered, ${afterClose} of them by the closing server after close())`)
  t.ok(answered > before, 'the loops carried on against the next server')
})

t.test('an idle connection is closed cleanly once idle past its keep-alive time; a never-used one too', async (t) => {
  const { server, port, closed } = await start({ keepAliveTimeoutMs: 200, sweepMs: 50 })
  server.keepAliveTimeoutBuffer = 100
  const used = net.connect(port, '127.0.0.1')
  const unused = net.connect(port, '127.0.0.1')
  const events: string[] = []
  const ended: Array<Promise<void>> = []
  for (const [name, s] of [['used', used], ['unused', unused]] as const) {
    s.on('end', () => events.push(`${name}: end`))
    s.on('error', (err: NodeJS.ErrnoException) => events.push(`${name}: ${err.code}`))
    ended.push(new Promise((resolve) => s.once('close', () => resolve())))
    s.resume()
  }
  await new Promise<void>((resolve) => used.once('connect', resolve))
  const answered = new Promise((resolve) => used.once('data', resolve))
  used.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  await answered
  server.close()
  await closed
  await Promise.all(ended)
  t.same(events.sort(), ['unused: end', 'used: end'], 'both got a clean end of stream, no reset')
})

t.test('connections still busy at the deadline are cut, so close() always ends', async (t) => {
  const { server, port, closed } = await start({ drainDeadlineMs: 300 })
  const agent = new http.Agent({ keepAlive: true })
  t.teardown(() => agent.destroy())
  const arrived = new Promise((resolve) => server.once('request', resolve))
  const hanging = agentGet(agent, port, '/hang')
  await arrived
  server.close()
  await closed
  t.match(await hanging, { error: /ECONNRESET|socket hang up/ }, 'the hanging request was cut at the deadline')
  t.equal(server.connectionCount, 0, 'nothing left open')
})
