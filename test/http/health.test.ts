import t from 'tap'
import { build } from '../fixtures/app.js'

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
  t.notOk(JSON.stringify(body).includes('test-api-key'), 'no secret in the body')
})

t.test('health is DEGRADED (503) when the database is unusable', async (t) => {
  const { app, db } = await build(t)
  db.close()
  const res = await app.inject({ method: 'GET', url: '/health' })
  t.equal(res.statusCode, 503, '503 when db closed')
  t.equal(res.json().status, 'DEGRADED', 'status DEGRADED')
})

t.test('unknown routes answer a JSON 404', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'GET', url: '/nao-existe' })
  t.equal(res.statusCode, 404, '404')
  t.equal(res.json().error, 'rota_nao_encontrada', 'stable code')
})
