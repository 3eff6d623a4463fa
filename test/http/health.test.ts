import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { ConfigStore } from '../../src/config/store.js'
import { openDatabase } from '../../src/db/database.js'
import { healthRoutes } from '../../src/http/routes/health.js'
import { build } from '../fixtures/app.js'
import { testConfig } from '../fixtures/config.js'

t.test('GET /health is public and reports the tenant', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'GET', url: '/health' })
  t.equal(res.statusCode, 200, 'health answers 200')
  const body = res.json()
  t.equal(body.status, 'OK', 'status OK')
  t.equal(body.port, 6999, 'reports the port')
  t.equal(body.tenant, 'Teste', 'reports the tenant name')
  t.equal(body.checks.database, 'ok', 'database check ok')
  t.same(body.checks.batches, { pending: 0, running: 0 }, 'batch counts present')
  t.equal(body.checks.upstream_shape_warnings, 0, 'no upstream shape warnings yet')
  t.notOk(JSON.stringify(body).includes('test-api-key'), 'no secret in the body')
  t.same(body.checks.integrations, { v8: { configured: false }, kentro: { configured: false }, presencabank: { configured: false } }, 'an unconfigured tenant says so per integration, and stays live')
})

t.test('GET /health reports each integration configured once its keys are set', async (t) => {
  const { app, store } = await build(t, { config: { V8_USERNAME: 'u@x.com', V8_PASSWORD: 'secret-pass', KENTRO_API_URL: 'https://cliente.atenderbem.com/int', KENTRO_API_KEY: 'k', KENTRO_QUEUE_ID: '25' } })
  let body = (await app.inject({ method: 'GET', url: '/health' })).json()
  t.same(body.checks.integrations, { v8: { configured: true }, kentro: { configured: true }, presencabank: { configured: false } }, 'V8 and Kentro configured, PresençaBank off')
  t.notOk(JSON.stringify(body).includes('secret-pass'), 'no secret in the body')
  store.update({ V8_PASSWORD: '' })
  body = (await app.inject({ method: 'GET', url: '/health' })).json()
  t.equal(body.checks.integrations.v8.configured, false, 'a cleared V8 password shows at once')
})

t.test('contract drift shows in /health at once: checks.upstream_shape_warnings', async (t) => {
  const { app, services } = await build(t)
  services.shapeWarnings.warn({ upstream: 'Kentro', route: 'getPipeOpportunities', action: 'item_skipped', problems: [{ path: '[3].id', problem: 'Invalid input', id: '40117' }, { path: '[9].id', problem: 'Invalid input' }] })
  const body = (await app.inject({ method: 'GET', url: '/health' })).json()
  t.equal(body.checks.upstream_shape_warnings, 2, 'two odd items counted (not cached with the database reading)')
})

t.test('health is DEGRADED (503) when the database is unusable', async (t) => {
  const { app, db } = await build(t)
  db.close()
  const res = await app.inject({ method: 'GET', url: '/health' })
  t.equal(res.statusCode, 503, '503 when db closed')
  t.equal(res.json().status, 'DEGRADED', 'status DEGRADED')
})

/** The health route alone on a clock and status the test moves: counts database readings. */
async function healthHarness (t: Test) {
  const h = {
    reads: 0,
    failing: false,
    clock: 0,
    warnings: 0,
    presencaError: null as string | null,
    store: new ConfigStore(testConfig()),
  }
  const db = openDatabase(':memory:')
  const app = Fastify()
  await app.register(healthRoutes, {
    db,
    config: h.store,
    now: Date.now,
    startedAt: Date.now(),
    clock: () => h.clock,
    status: {
      batchCounts: () => {
        h.reads++
        if (h.failing) throw new Error('database is locked')
        return { pending: 0, running: 0 }
      },
      tokenStatus: () => ({ cached: false, expires_in: null, obtained_at: null, last_error: null }),
      shapeWarnings: () => h.warnings,
      presencaStatus: () => ({ configured: false, token_cached: false, expires_in: null, last_error: h.presencaError, last_error_at: null, per_minute: 30, waiting: 0 }),
      presencaCounts: () => ({ total: 0, processando: 0, concluidos: 0, erros: 0 }),
    },
  })
  t.teardown(async () => {
    await app.close()
    db.close()
  })
  const probe = () => app.inject({ method: 'GET', url: '/health' })
  return { h, probe }
}

t.test('a burst of probes reads the database once per interval; trouble is never cached', async (t) => {
  const { h, probe } = await healthHarness(t)
  for (let i = 0; i < 20; i++) {
    t.equal((await probe()).statusCode, 200)
    h.clock += 40
  }
  t.equal(h.reads, 1, '20 probes within a second: one reading')
  h.clock += 250
  await probe()
  t.equal(h.reads, 2, 'read again after the interval')
  h.failing = true
  h.clock += 1000
  t.equal((await probe()).statusCode, 503, 'a failing read: 503 DEGRADED')
  h.failing = false
  t.equal((await probe()).statusCode, 200, 'the next probe reads again at once: recovered')
  t.equal(h.reads, 4, 'a DEGRADED reading is never reused')
})

t.test('within the interval a config save, a new shape warning or a PresençaBank change shows at the next probe; an unchanged probe serializes nothing', async (t) => {
  const { h, probe } = await healthHarness(t)
  const first = (await probe()).json()
  t.equal(first.tenant, 'Teste', 'the first answer')
  const stringify = JSON.stringify
  let serialized = 0
  JSON.stringify = ((...args: Parameters<typeof stringify>) => {
    serialized++
    return stringify(...args)
  }) as typeof stringify
  t.teardown(() => { JSON.stringify = stringify })
  const again = await probe()
  JSON.stringify = stringify
  t.equal(serialized, 0, 'an unchanged healthy probe builds its body without JSON.stringify')
  t.same({ ...again.json(), timestamp: first.timestamp, uptime: first.uptime }, first, 'and answers the same')

  h.store.update({ TENANT_NAME: 'Outro Nome' })
  t.equal((await probe()).json().tenant, 'Outro Nome', 'a config save shows at the next probe')
  h.warnings = 3
  t.equal((await probe()).json().checks.upstream_shape_warnings, 3, 'a new shape warning shows at the next probe')
  h.presencaError = 'PresençaBank fora do ar'
  t.equal((await probe()).json().checks.presencabank.last_error, 'PresençaBank fora do ar', 'a PresençaBank status change shows at the next probe')
  t.equal(h.clock, 0, 'all within the reuse interval')
})

t.test('unknown routes answer a JSON 404', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'GET', url: '/nao-existe' })
  t.equal(res.statusCode, 404, '404')
  t.equal(res.json().error, 'rota_nao_encontrada', 'stable code')
})
