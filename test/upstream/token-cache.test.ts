import path from 'node:path'
import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { UpstreamError } from '../../src/upstream/errors.js'
import { TokenCache, fingerprint, renewAt, skewMs } from '../../src/upstream/token-cache.js'
import { credentialsOf, passwordGrant } from '../../src/upstream/v8-auth.js'
import { testConfig, tempRoot } from '../fixtures/config.js'
import { consultRequestFor, startSandbox, type RunningSandbox } from '../fixtures/sandbox.js'
import { httpClientFor, lastDays, servicesFor, silentLogger } from '../fixtures/upstream.js'
import { setTimeout as sleep } from 'node:timers/promises'

/** A bare TokenCache on `db` logging in to the sandbox with the tenant config plus `extra`. */
function cacheFor (tt: { teardown(fn: () => unknown): void }, sb: RunningSandbox, db: ReturnType<typeof openDatabase>, extra: Record<string, string> = {}, negativeTtlMs?: number): TokenCache {
  const http = httpClientFor(tt)
  const config = testConfig(6999, { ...sb.tenantConfig(), ...extra })
  return new TokenCache({
    db,
    logger: silentLogger,
    credentials: () => credentialsOf(config),
    login: (creds, signal) => passwordGrant(http, creds, signal),
    ...(negativeTtlMs !== undefined ? { negativeTtlMs } : {}),
  })
}

t.test('skew: 60 s for real tokens, a quarter of the lifetime for short ones; never past expiry', async (t) => {
  t.equal(skewMs(86_400_000), 60_000, '24 h token renews 60 s early')
  t.equal(skewMs(2_000), 500, '2 s token renews 0.5 s early')
  t.equal(renewAt({ expiresAt: 10_000, obtainedAt: 8_000 }), 9_500, 'renewal point inside the lifetime')
  t.equal(renewAt({ expiresAt: 100_000, obtainedAt: 0 }), 40_000, 'a persisted token (lifetime unknown) gets the full 60 s skew')
})

t.test('200 concurrent cold callers share one login', async (t) => {
  const sb = await startSandbox(t)
  const { services } = servicesFor(t, sb)
  const tokens = await Promise.all(Array.from({ length: 200 }, () => services.tokens.get()))
  const issued = (await sb.stats()).tokens_issued
  t.comment(`single-flight: 200 concurrent cold callers → ${issued} token(s) issued`)
  t.equal(new Set(tokens).size, 1, 'every caller got the same token')
  t.equal(issued, 1, 'exactly one token issued by the sandbox')
  const status = services.tokenStatus()
  t.equal(status.cached, true, 'status says cached')
  t.ok((status.expires_in ?? 0) > 86_000, `expires_in reported (${status.expires_in})`)
  t.ok(status.obtained_at && Date.parse(status.obtained_at) <= Date.now(), 'obtained_at reported')
  t.equal(status.last_error, null, 'no last error')
})

t.test('a restart reuses the persisted token: 0 logins; the row is keyed by fingerprint and never holds the password', async (t) => {
  const sb = await startSandbox(t)
  const file = path.join(tempRoot(t), 'tenants', 'data-6999.sqlite')
  const first = servicesFor(t, sb, { dbFile: file })
  const token = await first.services.tokens.get()
  await first.close()
  const before = (await sb.stats()).tokens_issued
  const second = servicesFor(t, sb, { dbFile: file })
  const again = await Promise.all(Array.from({ length: 200 }, () => second.services.tokens.get()))
  t.ok(again.every((x) => x === token), 'same token after restart, for 200 concurrent callers')
  await second.services.v8.listOperations(lastDays())
  const after = (await sb.stats()).tokens_issued - before
  t.comment(`restart: ${after} token(s) issued after restart (200 callers + one BFF call)`)
  t.equal(after, 0, 'no login after restart')
  t.equal(second.services.tokenStatus().cached, true, 'status says cached after restart')
  const rows = second.db.prepare('SELECT * FROM token_cache').all() as Array<Record<string, unknown>>
  t.equal(rows.length, 1, 'one persisted row')
  t.equal(
    rows[0]?.['fingerprint'],
    fingerprint({ authUrl: `${sb.url}/oauth/token`, clientId: 'sandbox-client', audience: 'https://bff.v8sistema.com', username: 'demo@sandbox.local', password: 'sandbox' }),
    'keyed by the credentials fingerprint'
  )
  t.notOk(Object.values(rows[0] ?? {}).some((v) => String(v).includes('sandbox')), 'no password (nor username) in the row')
})

t.test('an expired persisted token is not served after restart', async (t) => {
  const sb = await startSandbox(t)
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const cache = cacheFor(t, sb, db)
  const fp = fingerprint(credentialsOf(testConfig(6999, sb.tenantConfig())))
  db.prepare('INSERT INTO token_cache (fingerprint, access_token, token_type, expires_at) VALUES (?, ?, ?, ?)').run(fp, 'stale-token', 'Bearer', Date.now() - 1000)
  t.equal(cache.status().cached, false, 'status does not count an expired row')
  const token = await cache.get()
  t.not(token, 'stale-token', 'a fresh token instead of the expired one')
  t.equal((await sb.stats()).tokens_issued, 1, 'one login')
})

t.test('short-lived tokens (2 s) renew before expiry under steady load, with no failed call', async (t) => {
  const sb = await startSandbox(t)
  await sb.configure({ token_ttl_s: 2 })
  const { services } = servicesFor(t, sb)
  const end = Date.now() + 5500
  let ok = 0
  const failures: string[] = []
  while (Date.now() < end) {
    const round = await Promise.allSettled(Array.from({ length: 4 }, () => services.v8.listOperations(lastDays())))
    for (const r of round) {
      if (r.status === 'fulfilled') ok++
      else failures.push(String((r.reason as Error).message))
    }
    await sleep(40)
  }
  const stats = await sb.stats()
  t.same(failures, [], `no failed call (${ok} calls)`)
  t.equal(stats.routes['GET /private-consignment/operation'], ok, 'no call was refused and repeated: every token was renewed before expiring')
  t.ok(stats.tokens_issued >= 3, `renewed a quarter before expiry (${stats.tokens_issued} issued in 5.5 s with a 2 s lifetime: 0, 1.5, 3, 4.5 s)`)
  t.ok(stats.tokens_issued <= 5, `about one login per 1.5 s, not per call (${stats.tokens_issued})`)
})

t.test('a revoked token mid-flight (401) costs exactly one re-login for concurrent callers', async (t) => {
  const sb = await startSandbox(t)
  const { services } = servicesFor(t, sb)
  await services.v8.listOperations(lastDays())
  await sb.revokeTokens()
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => services.v8.listOperations(lastDays())))
  t.equal(results.filter((r) => r.status === 'rejected').length, 0, 'every call succeeded after the 401')
  t.equal((await sb.stats()).tokens_issued, 2, 'one initial login + one re-login for 10 concurrent callers')
})

t.test('a wrong password is not retried: N calls make 1 token request within the negative-cache window', async (t) => {
  const sb = await startSandbox(t)
  const { services } = servicesFor(t, sb, { config: { V8_PASSWORD: 'wrong-password-123' } })
  const results = await Promise.allSettled(Array.from({ length: 30 }, () => services.v8.simulationConfigs()))
  t.ok(results.every((r) => r.status === 'rejected'), 'every call fails')
  const err = (results[0] as PromiseRejectedResult).reason as UpstreamError
  t.equal(err.code, 'v8_credentials_rejected', 'mapped code')
  t.equal(err.statusCode, 502, 'upstream refused us: 502')
  t.match(err.message, /Wrong email or password/, "carries V8's own reason")
  t.notOk(JSON.stringify({ m: err.message, d: err.details }).includes('wrong-password-123'), 'never echoes the password')
  for (let i = 0; i < 10; i++) await t.rejects(services.v8.listOperations(lastDays()), { code: 'v8_credentials_rejected' }, `call ${i} refused from memory`)
  const stats = await sb.stats()
  t.equal(stats.login_failures, 1, 'one login attempt reached Auth0 for 40 calls')
  t.equal(stats.routes['GET /private-consignment/simulation/configs'] ?? 0, 0, 'no BFF call without a token')
  t.match(services.tokenStatus().last_error ?? '', /recusou o login/, 'status keeps the last error')
})

t.test('the negative cache is a window: after it, one new attempt', async (t) => {
  const sb = await startSandbox(t)
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const cache = cacheFor(t, sb, db, { V8_PASSWORD: 'nope' }, 200)
  await t.rejects(cache.get(), { code: 'v8_credentials_rejected' }, 'first refusal')
  await t.rejects(cache.get(), { code: 'v8_credentials_rejected' }, 'answered from memory')
  t.equal((await sb.stats()).login_failures, 1, 'one attempt inside the window')
  await sleep(250)
  await t.rejects(cache.get(), { code: 'v8_credentials_rejected' }, 'asked again after the window')
  t.equal((await sb.stats()).login_failures, 2, 'a second attempt only after the window')
})

t.test('a wrong audience is v8_audience_invalid, negative-cached too', async (t) => {
  const sb = await startSandbox(t)
  const { services } = servicesFor(t, sb, { config: { V8_AUDIENCE: 'https://wrong.example' } })
  await t.rejects(services.tokens.get(), { code: 'v8_audience_invalid', statusCode: 502, message: /Service not enabled within domain/ }, 'audience refusal with its reason')
  await t.rejects(services.tokens.get(), { code: 'v8_audience_invalid' }, 'again, from memory')
  t.equal((await sb.stats()).routes['POST /oauth/token'], 1, 'one request to Auth0')
})

t.test('no username/password yet: v8_not_configured, no request, and a save takes effect at once', async (t) => {
  const sb = await startSandbox(t)
  const { services, store } = servicesFor(t, sb, { config: { V8_USERNAME: '', V8_PASSWORD: '' } })
  await t.rejects(services.tokens.get(), { code: 'v8_not_configured', statusCode: 503, message: /\/config-v8/ }, 'says where to configure')
  t.equal((await sb.stats()).routes['POST /oauth/token'] ?? 0, 0, 'Auth0 not asked')
  store.update({ V8_USERNAME: 'demo@sandbox.local', V8_PASSWORD: 'sandbox' })
  t.ok(await services.tokens.get(), 'works right after saving')
})

t.test('saving new credentials drops the token at once; an in-flight login for the old ones cannot store', async (t) => {
  const sb = await startSandbox(t)
  const { services, store, db } = servicesFor(t, sb)
  const old = await services.tokens.get()
  store.update({ V8_PASSWORD: 'sandbox' }) // no real change: nothing dropped
  t.equal(await services.tokens.get(), old, 'unchanged credentials keep the token')
  store.update({ V8_USERNAME: 'second@sandbox.local' })
  t.equal(services.tokenStatus().cached, false, 'dropped at once on save')
  t.equal((db.prepare('SELECT count(*) AS n FROM token_cache').get() as { n: number }).n, 0, 'row dropped at once')

  await sb.faults({ latency_ms: 400, routes: ['/oauth/token'], count: 1 })
  const inflight = services.tokens.get() // logs in as second@, slowly
  await sleep(100)
  store.update({ V8_USERNAME: 'third@sandbox.local' })
  const fresh = await services.tokens.get()
  t.equal(await inflight, fresh, 'the caller waiting on the superseded login got the new credentials’ token')
  await sleep(450) // let the slow login for second@ finish on the sandbox side
  const rows = db.prepare('SELECT fingerprint, access_token FROM token_cache').all() as Array<{ fingerprint: string; access_token: string }>
  const thirdFp = fingerprint(credentialsOf(store.get()))
  t.same(rows.map((r) => r.fingerprint), [thirdFp], 'only the current credentials have a row')
  t.equal(rows[0]?.access_token, fresh, 'holding the current token')
  t.equal(services.tokenStatus().cached, true, 'status: cached for the current credentials')
  t.equal((await sb.stats()).tokens_by_user['third@sandbox.local'], 1, 'one login for the current user')
})

t.test("two token caches with different usernames never use each other's token (same DB file)", async (t) => {
  const sb = await startSandbox(t)
  const file = path.join(tempRoot(t), 'tenants', 'shared.sqlite')
  const a = servicesFor(t, sb, { dbFile: file, config: { V8_USERNAME: 'a@sandbox.local' } })
  const b = servicesFor(t, sb, { dbFile: file, config: { V8_USERNAME: 'b@sandbox.local' } })
  const [ta, tb] = await Promise.all([a.services.tokens.get(), b.services.tokens.get()])
  t.not(ta, tb, 'different tokens')
  const person = (await sb.people('ok', 1))[0]!
  const created = await a.services.v8.createConsult(consultRequestFor(person))
  await t.rejects(b.services.v8.getConsult(created.id), { code: 'v8_not_found' }, "b's token cannot see a's consult (it is really b's login)")
  t.equal((await a.services.v8.getConsult(created.id)).id, created.id, "a's token sees it")
  await b.close()
  const b2 = servicesFor(t, sb, { dbFile: file, config: { V8_USERNAME: 'b@sandbox.local' } })
  t.equal(await b2.services.tokens.get(), tb, 'b restarted gets its own persisted token back')
  const stats = await sb.stats()
  t.equal(stats.tokens_by_user['a@sandbox.local'], 1, 'one login for a')
  t.equal(stats.tokens_by_user['b@sandbox.local'], 1, 'one login for b')
})

t.test('a login that ignores the abort cannot store its token once the credentials changed (even back and forth)', async (t) => {
  const sb = await startSandbox(t)
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const http = httpClientFor(t)
  const configA = testConfig(6999, sb.tenantConfig())
  const configB = testConfig(6999, { ...sb.tenantConfig(), V8_USERNAME: 'b@sandbox.local' })
  let config = configA
  // No signal handed to the grant: the superseded login runs to the end and returns a token.
  const cache = new TokenCache({ db, logger: silentLogger, credentials: () => credentialsOf(config), login: (creds) => passwordGrant(http, creds) })
  await sb.faults({ latency_ms: 300, routes: ['/oauth/token'], count: 1 })
  const inflight = cache.get()
  await sleep(50)
  config = configB
  cache.invalidate()
  config = configA // A → B → A: same fingerprint as the login in flight, newer generation
  cache.invalidate()
  const fresh = await cache.get()
  t.equal(await inflight, fresh, 'the waiting caller got the token of the current generation')
  await sleep(350)
  t.equal((await sb.stats()).tokens_by_user['demo@sandbox.local'], 2, 'the slow login did finish on the sandbox (and was discarded)')
  const rows = db.prepare('SELECT access_token FROM token_cache').all() as Array<{ access_token: string }>
  t.same(rows.map((r) => r.access_token), [fresh], 'only the current generation’s token is stored')
  t.equal(await cache.get(), fresh, 'and served')
})
