/** V8 Auth0 password grant of the sandbox: success, each refusal body, rate limits, token lifetime and revocation. */
import t from 'tap'
import { http, manualClock, startSandbox, v8Token } from '../fixtures/sandbox.js'

const GRANT = {
  grant_type: 'password',
  username: 'ana@corban.local',
  password: 'sandbox',
  audience: 'https://bff.v8sistema.com',
  scope: 'offline_access',
  client_id: 'sandbox-client',
}

t.test('password sandbox → token, form-encoded or JSON', async (t) => {
  const sb = await startSandbox(t, { tokenTtlSeconds: 3600 })
  const form = await http(sb.url, 'POST', '/oauth/token', { form: GRANT })
  t.equal(form.status, 200, 'form body accepted')
  t.match(form.body, { token_type: 'Bearer', expires_in: 3600, scope: 'offline_access' }, 'Auth0 token shape, configured lifetime')
  t.type(form.body.access_token, 'string', 'access_token is a string')
  t.ok(form.body.access_token.length >= 20, 'opaque token of some length')
  const json = await http(sb.url, 'POST', '/oauth/token', { json: GRANT })
  t.equal(json.status, 200, 'JSON body accepted')
  t.not(json.body.access_token, form.body.access_token, 'each grant is a new token')
  const stats = await sb.stats()
  t.equal(stats.tokens_issued, 2, 'two tokens counted')
  t.same(stats.tokens_by_user, { 'ana@corban.local': 2 }, 'counted per user')
  t.equal(stats.routes['POST /oauth/token'], 2, 'route counted')
})

t.test('refusals carry the Auth0 bodies', async (t) => {
  const sb = await startSandbox(t)
  const wrong = await http(sb.url, 'POST', '/oauth/token', { form: { ...GRANT, password: 'nope' } })
  t.equal(wrong.status, 403, 'wrong password → 403')
  t.same(wrong.body, { error: 'invalid_grant', error_description: 'Wrong email or password.' }, 'invalid_grant body')
  const audience = await http(sb.url, 'POST', '/oauth/token', { form: { ...GRANT, audience: 'https://other.example' } })
  t.equal(audience.status, 403, 'wrong audience → 403')
  t.same(audience.body, { error: 'access_denied', error_description: 'Service not enabled within domain: https://other.example' }, 'access_denied body')
  for (const field of ['username', 'password', 'audience', 'client_id', 'grant_type']) {
    const res = await http(sb.url, 'POST', '/oauth/token', { form: { ...GRANT, [field]: '' } })
    t.equal(res.status, 400, `missing ${field} → 400`)
    t.equal(res.body.error, 'invalid_request', `missing ${field} → invalid_request`)
  }
  const grant = await http(sb.url, 'POST', '/oauth/token', { form: { ...GRANT, grant_type: 'client_credentials' } })
  t.equal(grant.body.error, 'unsupported_grant_type', 'other grant types refused')
  const bad = await http(sb.url, 'POST', '/oauth/token', { headers: { 'content-type': 'application/json' }, json: undefined, form: undefined })
  t.equal(bad.status, 400, 'no body at all → 400')
  t.equal((await sb.stats()).tokens_issued, 0, 'no token issued by refusals')
})

t.test('token requests per second beyond token_rps → 429 too_many_requests', async (t) => {
  const clock = manualClock()
  const sb = await startSandbox(t, { now: clock.now })
  await sb.configure({ token_rps: 3 })
  const answers = await Promise.all(Array.from({ length: 5 }, () => http(sb.url, 'POST', '/oauth/token', { form: GRANT })))
  t.same(answers.map((a) => a.status).sort(), [200, 200, 200, 429, 429], '3 pass, 2 limited within one second')
  t.same(answers.find((a) => a.status === 429)?.body, { error: 'too_many_requests', error_description: 'Global limit has been reached' }, '429 body')
  clock.advance(1000)
  t.equal((await http(sb.url, 'POST', '/oauth/token', { form: GRANT })).status, 200, 'the next second is free again')
})

t.test('repeated wrong passwords block the user for the minute (too_many_attempts)', async (t) => {
  const clock = manualClock()
  const sb = await startSandbox(t, { now: clock.now, loginFailuresPerMinute: 3 })
  for (let i = 0; i < 3; i++) t.equal((await http(sb.url, 'POST', '/oauth/token', { form: { ...GRANT, password: 'x' } })).status, 403, `failure ${i + 1} → 403`)
  const blocked = await http(sb.url, 'POST', '/oauth/token', { form: GRANT })
  t.equal(blocked.status, 429, 'even the right password is blocked now')
  t.equal(blocked.body.error, 'too_many_attempts', 'too_many_attempts')
  t.equal((await http(sb.url, 'POST', '/oauth/token', { form: { ...GRANT, username: 'other@x.local' } })).status, 200, 'other users are not blocked')
  clock.advance(60_000)
  t.equal((await http(sb.url, 'POST', '/oauth/token', { form: GRANT })).status, 200, 'unblocked the next minute')
  t.equal((await sb.stats()).login_failures, 3, 'failures counted')
})

t.test('BFF bearer check: missing, unknown, expired and revoked tokens → 401 unauthorized', async (t) => {
  const clock = manualClock()
  const sb = await startSandbox(t, { now: clock.now, tokenTtlSeconds: 10 })
  const token = await v8Token(sb.url)
  const path = '/private-consignment/simulation/configs'
  t.equal((await http(sb.url, 'GET', path, { token })).status, 200, 'a fresh token works')
  const none = await http(sb.url, 'GET', path)
  t.equal(none.status, 401, 'no token → 401')
  t.match(none.body, { type: 'unauthorized', title: 'Unauthorized' }, 'V8 401 body')
  t.equal((await http(sb.url, 'GET', path, { token: 'made-up' })).status, 401, 'unknown token → 401')
  clock.advance(9_999)
  t.equal((await http(sb.url, 'GET', path, { token })).status, 200, 'still valid just before expiry')
  clock.advance(1)
  const expired = await http(sb.url, 'GET', path, { token })
  t.equal(expired.status, 401, 'expired token → 401')
  t.match(expired.body.detail, /expired/i, 'detail says expired')
  const fresh = await v8Token(sb.url)
  await sb.revokeTokens()
  t.equal((await http(sb.url, 'GET', path, { token: fresh })).status, 401, 'revoked token → 401')
  t.equal((await http(sb.url, 'GET', path, { token: await v8Token(sb.url) })).status, 200, 'a new login works after revocation')
})
