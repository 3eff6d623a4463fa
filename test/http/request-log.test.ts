/** One log line per request (none for a healthy probe), and the security headers on every kind of response. */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { SECURITY_HEADER_OPTIONS, renderSecurityHeaders } from '../../src/http/security-headers.js'
import { ConfigStore } from '../../src/config/store.js'
import { openDatabase } from '../../src/db/database.js'
import { createTenant } from '../../src/tenant.js'
import { createLogger } from '../../src/log/logger.js'
import { build } from '../fixtures/app.js'
import { TEST_API_KEY, tempRoot, testConfig } from '../fixtures/config.js'

t.test('request lines: one per request with method, URL, status and time; healthy probes silent, failing ones warn', async (t) => {
  const root = tempRoot(t)
  const log = await createLogger({ level: 'info', target: 'files', logsDir: path.join(root, 'logs'), name: '6999' })
  const store = new ConfigStore(testConfig(6999))
  const db = openDatabase(':memory:')
  const { app, close } = await createTenant({ config: store, db, logger: log.logger, healthCacheMs: 0 })
  await app.inject({ method: 'GET', url: '/marker-a' })
  await app.inject({ method: 'GET', url: '/cache/simulacoes?page=1', headers: { authorization: `Bearer ${TEST_API_KEY}` } })
  for (let i = 0; i < 5; i++) await app.inject({ method: 'GET', url: '/health' })
  db.close()
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 503, 'probe finds the database gone')
  await close() // closing the database again is harmless
  await log.close()
  const lines = fs.readFileSync(path.join(root, 'logs', 'out-6999.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  const requests = lines.filter((l) => l['msg'] === 'request completed')
  t.same(requests.map((l) => [l['method'], l['url'], l['statusCode'], l['level']]), [
    ['GET', '/marker-a', 404, 30],
    ['GET', '/cache/simulacoes?page=1', 200, 30],
    ['GET', '/health', 503, 40],
  ], 'one line per request; the five healthy probes wrote none; the failing probe is a warning')
  t.ok(requests.every((l) => typeof l['responseTime'] === 'number' && typeof l['reqId'] === 'string'), 'time and request id on each line')
  t.notOk(lines.some((l) => l['msg'] === 'incoming request'), 'no separate arrival line')
})

t.test('security headers on every response: page, API, 401, 404, health; /docs keeps its own style hash', async (t) => {
  const { app } = await build(t)
  const expected = renderSecurityHeaders(SECURITY_HEADER_OPTIONS)
  t.match(expected['content-security-policy'], /default-src 'self'.*frame-ancestors 'none'/, 'a strict CSP is rendered')
  t.equal(expected['x-content-type-options'], 'nosniff', 'nosniff')
  t.notOk('strict-transport-security' in expected, 'no HSTS (TLS ends before the tenant)')
  for (const [method, url, headers] of [
    ['GET', '/health', {}],
    ['GET', '/config-v8', {}],
    ['GET', '/cache/simulacoes', {}],
    ['GET', '/cache/simulacoes', { authorization: `Bearer ${TEST_API_KEY}` }],
    ['GET', '/nao-existe', {}],
    ['POST', '/clt/fluxo-completo', { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' }],
  ] as const) {
    const res = await app.inject({ method, url, headers, ...(method === 'POST' ? { payload: '{bad json' } : {}) })
    const missing = Object.entries(expected).filter(([k, v]) => res.headers[k] !== v).map(([k]) => k)
    t.same(missing, [], `${method} ${url} (${res.statusCode}) carries every security header`)
  }
  const docs = await app.inject({ method: 'GET', url: '/docs/static/index.html' })
  t.match(String(docs.headers['content-security-policy']), /style-src 'self' 'sha256-/, '/docs replaces only its CSP, with the style hash')
  t.equal(docs.headers['x-frame-options'], expected['x-frame-options'], 'and keeps the others')
})
