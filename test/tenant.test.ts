/** The composition root: one tenant built from config, db and logger, closed in order, once. */
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { Pool } from 'undici'
import { KEEP_ALIVE_TIMEOUT_MS } from '../src/config/lifecycle.js'
import { ConfigStore } from '../src/config/store.js'
import { openDatabase } from '../src/db/database.js'
import { createTenant } from '../src/tenant.js'
import { FAST_ENGINE, FakeRunner, validCpfs, waitFor } from './fixtures/batches.js'
import { AUTH } from './fixtures/app.js'
import { testConfig } from './fixtures/config.js'
import { quietLogger } from './fixtures/log.js'

t.test('close(): batch claims stop while HTTP drains, in-flight items end, then the database closes; twice is once', async (t) => {
  const runner = new FakeRunner()
  const open = runner.hold()
  const db = openDatabase(':memory:')
  const tenant = await createTenant({
    config: new ConfigStore(testConfig()),
    db,
    logger: quietLogger(),
    batch: { runner, engine: { ...FAST_ENGINE, concurrency: 2, shutdownBudgetMs: 5_000 } },
  })
  await tenant.services.batches.create({ origem: 'lista', cpfs: validCpfs(6) })
  await waitFor('two items in flight', () => runner.active === 2)

  const first = tenant.close()
  t.equal(tenant.close(), first, 'a second close() is the same close')
  // Closing waits for the held items: the database is still open for them to record their outcome.
  await new Promise((resolve) => setImmediate(resolve))
  t.ok(db.open, 'the database stays open while items are in flight')
  open()
  await first
  t.notOk(db.open, 'the database is closed last')
  t.equal(runner.totalCalls(), 2, 'no item was claimed after close() began')
  t.equal(tenant.app.server.listening, false, 'the HTTP server is closed')
})

t.test('close() drains HTTP: a kept-alive client reusing its connection is answered (database still open), then told to go', async (t) => {
  const db = openDatabase(':memory:')
  const tenant = await createTenant({ config: new ConfigStore(testConfig()), db, logger: quietLogger(), batch: { start: false } })
  t.teardown(() => tenant.close())
  await tenant.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = tenant.app.server.address() as AddressInfo
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 })
  t.teardown(() => pool.close())
  const get = async (path: string, headers: Record<string, string> = {}): Promise<{ status: number; connection: unknown; keepAlive: unknown }> => {
    const res = await pool.request({ path, method: 'GET', headers })
    await res.body.dump()
    return { status: res.statusCode, connection: res.headers['connection'], keepAlive: res.headers['keep-alive'] }
  }
  const first = await get('/health')
  t.same(first, { status: 200, connection: 'keep-alive', keepAlive: `timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}` }, 'keep-alive advertised with the chosen timeout')

  const closing = tenant.close()
  const during = await get('/clt/lotes', AUTH)
  t.same([during.status, during.connection], [200, 'close'], 'a request on the kept-alive connection during close is answered (it reads the database), with Connection: close')
  await closing
  t.notOk(db.open, 'the database closed after the last answer')
})
