/** The composition root: one tenant built from config, db and logger, closed in order, once. */
import t from 'tap'
import { pino } from 'pino'
import { ConfigStore } from '../src/config/store.js'
import { openDatabase } from '../src/db/database.js'
import { createTenant } from '../src/tenant.js'
import { FAST_ENGINE, FakeRunner, validCpfs, waitFor } from './fixtures/batches.js'
import { testConfig } from './fixtures/config.js'

t.test('close(): batch claims stop while HTTP drains, in-flight items end, then the database closes; twice is once', async (t) => {
  const runner = new FakeRunner()
  const open = runner.hold()
  const db = openDatabase(':memory:')
  const tenant = await createTenant({
    config: new ConfigStore(testConfig()),
    db,
    logger: pino({ level: 'silent' }),
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
