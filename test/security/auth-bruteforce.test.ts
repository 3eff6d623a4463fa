/**
 * Finding 3 (wrong keys never limited), against a real tenant: wrong keys are counted per client address before the
 * key check; an address past its allowance gets 429 + Retry-After whatever it sends, other addresses keep working,
 * the locked address works again after the lockout, and the 401/429 lines are sampled.
 */
import autocannon from 'autocannon'
import t from 'tap'
import { call, closeAgents, logLines, NEEDS_BUILD, startSecuredTenant, waitFor } from '../fixtures/security.js'

t.teardown(closeAgents)

const WRONG = 'wrong-key-wrong-key-wrong-key-wrong-key-00'
const ALLOWANCE = 10
const LOCKOUT_S = 3

t.test('wrong keys: per-address allowance, then 429 for everything from that address only, then a fresh start', { skip: NEEDS_BUILD }, async (t) => {
  const tenant = await startSecuredTenant(t, { config: { AUTH_FAILURES_PER_MINUTE: String(ALLOWANCE), AUTH_LOCKOUT_SECONDS: String(LOCKOUT_S) } })
  const answers = await Promise.all(Array.from({ length: 60 }, () => call(tenant, 'GET', '/config/tenant', { key: WRONG, from: '127.0.0.1' })))
  const statuses = answers.map((a) => a.status)
  t.equal(statuses.filter((s) => s === 401).length, ALLOWANCE, `exactly ${ALLOWANCE} wrong keys were checked`)
  t.equal(statuses.filter((s) => s === 429).length, 60 - ALLOWANCE, 'the rest were refused before any check')
  const limited = answers.find((a) => a.status === 429)!
  t.equal(limited.body.error, 'muitas_tentativas_chave', 'stable code')
  const retryAfter = Number(limited.headers['retry-after'])
  t.ok(retryAfter >= 1 && retryAfter <= LOCKOUT_S, `Retry-After says when (${retryAfter} s)`)
  t.match(limited.body.message, /tente de novo em \d+ s/, 'and the message too')

  const goodLocked = await call(tenant, 'GET', '/config/tenant', { from: '127.0.0.1' })
  t.equal(goodLocked.status, 429, 'during the lockout even the right key from that address waits (no checks at all)')
  const goodOther = await call(tenant, 'GET', '/config/tenant', { from: '127.0.0.2' })
  t.equal(goodOther.status, 200, 'the right key from another address works during the lockout')
  const wrongOther = await call(tenant, 'GET', '/config/tenant', { key: WRONG, from: '127.0.0.3' })
  t.equal(wrongOther.status, 401, 'another address has its own allowance')
  const noKey = await call(tenant, 'GET', '/config/tenant', { key: null, from: '127.0.0.4' })
  t.equal(noKey.status, 401, 'no key at all is a plain 401')

  const back = await waitFor(async () => (await call(tenant, 'GET', '/config/tenant', { from: '127.0.0.1' })).status === 200, 20_000, 250)
  t.ok(back, 'after the lockout the right key from the locked address works')
  const again = await call(tenant, 'GET', '/config/tenant', { key: WRONG, from: '127.0.0.1' })
  t.equal(again.status, 401, 'and it starts with a fresh allowance')
})

t.test('wrong keys answered per second under load, and the log lines they cause are sampled', { skip: NEEDS_BUILD }, async (t) => {
  const tenant = await startSecuredTenant(t, { config: { AUTH_FAILURES_PER_MINUTE: String(ALLOWANCE), AUTH_LOCKOUT_SECONDS: String(LOCKOUT_S) } })
  const seconds = 5
  const result = await autocannon({
    url: `http://127.0.0.1:${tenant.port}/clt/lotes`,
    connections: 10,
    duration: seconds,
    headers: { authorization: `Bearer ${WRONG}` },
  })
  const checked = result.statusCodeStats['401']?.count ?? 0
  const refused = result.statusCodeStats['429']?.count ?? 0
  t.comment(`${result.requests.total} wrong-key requests in ${seconds} s: ${checked} checked (401, ${(checked / seconds).toFixed(1)}/s), ${refused} refused unchecked (429, ${Math.round(refused / seconds)}/s)`)
  t.ok(refused > 100, 'the load ran into the lockout')
  // One allowance per lockout period (plus the first one): the only keys ever compared.
  t.ok(checked <= ALLOWANCE * (Math.ceil(seconds / LOCKOUT_S) + 2), `checked keys stay within the allowance (${checked})`)
  await tenant.stop()
  const lines = logLines(tenant.root, tenant.port)
  const requestLines = lines.filter((l) => l['msg'] === 'request completed' && (l['statusCode'] === 401 || l['statusCode'] === 429))
  t.ok(requestLines.length <= 2 * 30 + Math.ceil(result.requests.total / 100) + 2, `request lines sampled (${requestLines.length} for ${result.requests.total} requests)`)
  t.ok(lines.some((l) => l['msg'] === 'auth: client locked out after repeated wrong API keys'), 'the lockout is logged')
  t.ok(lines.filter((l) => l['msg'] === 'auth: client locked out after repeated wrong API keys').length <= Math.ceil(seconds / LOCKOUT_S) + 2, 'once per lockout')
})
