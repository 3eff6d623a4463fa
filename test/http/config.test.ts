import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { listBackups } from '../../src/config/backups.js'
import { loadTenantConfig } from '../../src/config/load.js'
import { ConfigStore } from '../../src/config/store.js'
import { AUTH, build } from '../fixtures/app.js'
import { tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { startSandbox } from '../fixtures/sandbox.js'

const PORT = 6999
const TRICKY = 'a#b $& \'q\' "d" x\\y'

/** A tenant whose config lives in a real file (temp root), pointed at `extra` settings. */
async function fileTenant (t: Parameters<typeof build>[0] & { teardown(fn: () => void): void }, extra: Record<string, string> = {}) {
  const root = tempRoot(t)
  writeTenantConfig(root, PORT, extra)
  const loaded = loadTenantConfig(root, PORT)
  const store = new ConfigStore(loaded.config, loaded.file)
  const built = await build(t, { store })
  return { ...built, root, file: loaded.file }
}

const post = (url: string, payload: unknown, headers: Record<string, string> = AUTH) => ({ method: 'POST' as const, url, payload: payload as object, headers })

t.test('every config route needs the API key', async (t) => {
  const { app } = await build(t)
  for (const [method, url] of [
    ['GET', '/config/v8/atual'],
    ['POST', '/config/v8/salvar'],
    ['POST', '/config/v8/testar'],
    ['POST', '/config/v8/verificar'],
    ['GET', '/config/tenant'],
    ['POST', '/config/integracoes/salvar'],
  ] as const) {
    const res = await app.inject({ method, url, payload: method === 'POST' ? { username: 'a@b.co', password: 'x' } : undefined })
    t.equal(res.statusCode, 401, `${method} ${url} without key → 401`)
    t.equal(res.json().error, 'nao_autorizado', `${method} ${url} stable code`)
    const wrong = await app.inject({ method, url, headers: { authorization: 'Bearer not-the-key' } })
    t.equal(wrong.statusCode, 401, `${method} ${url} with a wrong key → 401`)
  }
})

t.test('GET /config/v8/atual masks the password, and says "" when none is set', async (t) => {
  const { app, store } = await build(t, { config: { V8_USERNAME: 'op@empresa.com.br', V8_PASSWORD: 's3cret!' } })
  const res = await app.inject({ method: 'GET', url: '/config/v8/atual', headers: AUTH })
  t.equal(res.statusCode, 200, '200')
  t.same(res.json(), { success: true, port: PORT, config: { username: 'op@empresa.com.br', password: '***' } }, 'masked view')
  t.notOk(res.body.includes('s3cret'), 'password never in the body')
  store.update({ V8_USERNAME: '', V8_PASSWORD: '' })
  const empty = await app.inject({ method: 'GET', url: '/config/v8/atual', headers: AUTH })
  t.same(empty.json().config, { username: '', password: '' }, 'empty when not configured')
})

t.test('POST /config/v8/salvar rejects bad input with 400 and the field', async (t) => {
  const { app, store } = await build(t)
  const before = store.generation
  const cases: Array<[string, unknown, string]> = [
    ['no username', { password: 'x' }, 'body.username'],
    ['username not an e-mail', { username: 'fulano', password: 'x' }, 'body.username'],
    ['username a number', { username: 42, password: 'x' }, 'body.username'],
    ['empty password', { username: 'a@b.co', password: '' }, 'body.password'],
    ['password a number', { username: 'a@b.co', password: 123 }, 'body.password'],
    ['password too long', { username: 'a@b.co', password: 'x'.repeat(257) }, 'body.password'],
    ['username too long', { username: `${'a'.repeat(250)}@b.co`, password: 'x' }, 'body.username'],
  ]
  for (const [name, body, field] of cases) {
    const res = await app.inject(post('/config/v8/salvar', body))
    t.equal(res.statusCode, 400, `${name} → 400`)
    t.equal(res.json().error, 'requisicao_invalida', `${name}: stable code`)
    t.ok(res.json().details.campos.some((c: { campo: string }) => c.campo === field), `${name}: names ${field}`)
  }
  const malformed = await app.inject({ method: 'POST', url: '/config/v8/salvar', headers: { ...AUTH, 'content-type': 'application/json' }, payload: '{"username":' })
  t.equal(malformed.statusCode, 400, 'malformed JSON → 400')
  t.equal(malformed.json().error, 'json_invalido', 'malformed JSON code')
  const huge = await app.inject(post('/config/v8/salvar', { username: 'a@b.co', password: 'x', pad: 'y'.repeat(200 * 1024) }))
  t.equal(huge.statusCode, 413, 'body over the limit → 413')
  t.equal(huge.json().error, 'corpo_muito_grande', '413 code')
  t.equal(store.generation, before, 'nothing was saved')
})

t.test('salvar writes the file atomically, round-trips #, $&, quotes and a backslash, and takes effect at once', async (t) => {
  const { app, store, file, root, services, db } = await fileTenant(t, { V8_USERNAME: 'old@empresa.com.br', V8_PASSWORD: 'old' })
  // A cached token for the old login must be dropped when the login changes.
  db.prepare('INSERT INTO token_cache (fingerprint, access_token, token_type, expires_at) VALUES (?, ?, ?, ?)').run('fp-old', 'tok', 'Bearer', Date.now() + 3_600_000)
  const res = await app.inject(post('/config/v8/salvar', { username: 'novo@empresa.com.br', password: TRICKY }, { ...AUTH, 'x-forwarded-for': '203.0.113.9' }))
  t.equal(res.statusCode, 200, 'saved')
  const body = res.json()
  t.equal(body.config.username, 'novo@empresa.com.br', 'answer shows the new user')
  t.equal(body.config.password, '***', 'answer masks the password')
  t.same(body.alteradas.sort(), ['V8_PASSWORD', 'V8_USERNAME'], 'lists the changed keys')
  t.notOk(res.body.includes('a#b'), 'password not echoed')

  t.equal(store.get().V8_PASSWORD, TRICKY, 'in-memory config switched at once')
  t.equal(loadTenantConfig(root, PORT).config.V8_PASSWORD, TRICKY, 'the file loads back to the exact password')
  t.equal(loadTenantConfig(root, PORT).config.V8_USERNAME, 'novo@empresa.com.br', 'the file has the new user')
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'file mode 0600')
  t.equal(listBackups(file).length, 1, 'previous file kept')
  t.match(fs.readFileSync(listBackups(file)[0]!, 'utf8'), /V8_PASSWORD='old'/, 'the copy holds the previous file')
  t.equal(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('.tmp-')).length, 0, 'no temp file left behind')
  t.equal((db.prepare('SELECT count(*) AS n FROM token_cache').get() as { n: number }).n, 0, 'cached token dropped')
  t.equal(services.tokenStatus().cached, false, 'token status: nothing cached')

  const atual = await app.inject({ method: 'GET', url: '/config/v8/atual', headers: AUTH })
  t.same(atual.json().config, { username: 'novo@empresa.com.br', password: '***' }, 'atual agrees')

  const again = await app.inject(post('/config/v8/salvar', { username: 'novo@empresa.com.br', password: TRICKY }))
  t.same(again.json().alteradas, [], 'saving the same login changes nothing')

  const audit = db.prepare('SELECT at, ip, action, keys FROM config_audit ORDER BY id').all() as Array<{ at: number; ip: string; action: string; keys: string }>
  t.equal(audit.length, 2, 'one audit row per save')
  t.equal(audit[0]!.action, 'v8', 'audit action')
  t.same(JSON.parse(audit[0]!.keys).sort(), ['V8_PASSWORD', 'V8_USERNAME'], 'audit lists the keys')
  t.equal(audit[0]!.ip, '127.0.0.1', 'audit has the client IP (X-Forwarded-For ignored without TRUST_PROXY)')
  t.ok(Math.abs(audit[0]!.at - Date.now()) < 60_000, 'audit has the time')
  const dump = JSON.stringify(db.prepare('SELECT * FROM config_audit').all())
  t.notOk(dump.includes('a#b') || dump.includes('novo@empresa'), 'audit never holds values')
})

t.test('a value no quoting can represent answers 400 and leaves the file alone', async (t) => {
  const { app, file } = await fileTenant(t)
  const before = fs.readFileSync(file, 'utf8')
  const res = await app.inject(post('/config/v8/salvar', { username: 'a@b.co', password: '\'"`' }))
  t.equal(res.statusCode, 400, '400')
  t.equal(res.json().error, 'valor_nao_suportado', 'stable code')
  t.match(res.json().message, /senha da V8/, 'says which value')
  t.equal(fs.readFileSync(file, 'utf8'), before, 'file untouched')
  for (const [name, password] of [['a carriage return', 'a\rb'], ['a newline', 'a\nb'], ['U+2028', 'a\u2028\nAPI_KEY=x'], ['NUL', 'a\u0000b'], ['U+0085', 'a\u0085b']]) {
    const res = await app.inject(post('/config/v8/salvar', { username: 'a@b.co', password }))
    t.equal(res.statusCode, 400, `${name} is refused rather than stored`)
    t.equal(res.json().error, 'valor_nao_suportado', `${name}: stable code`)
    t.equal(res.json().details.campo, 'V8_PASSWORD', `${name}: names the key`)
  }
  t.equal(fs.readFileSync(file, 'utf8'), before, 'file still untouched')
})

t.test('20 concurrent saves never leave a corrupt file', async (t) => {
  const { app, file, root, store } = await fileTenant(t)
  const logins = Array.from({ length: 20 }, (_, i) => ({ username: `user${i}@empresa.com.br`, password: `p#${i} $& '"\\${i}` }))
  const answers = await Promise.all(logins.map((l) => app.inject(post('/config/v8/salvar', l))))
  t.ok(answers.every((a) => a.statusCode === 200), 'all 20 saved')
  const loaded = loadTenantConfig(root, PORT).config
  const match = logins.find((l) => l.username === loaded.V8_USERNAME)
  t.ok(match, 'the file holds one of the saved logins')
  t.equal(loaded.V8_PASSWORD, match?.password, 'user and password in the file belong together')
  t.equal(store.get().V8_USERNAME, loaded.V8_USERNAME, 'memory and file agree')
  t.equal(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('.tmp-')).length, 0, 'no temp files left')
})

t.test('POST /config/v8/testar against the sandbox: reasons, success, never saves, rate limit', async (t) => {
  const sandbox = await startSandbox(t)
  const { app, store, file } = await fileTenant(t, { ...sandbox.tenantConfig(), V8_USERNAME: 'saved@empresa.com.br' })
  const fileBefore = fs.readFileSync(file, 'utf8')

  const wrong = await app.inject(post('/config/v8/testar', { username: 'novo@empresa.com.br', password: 'errada' }))
  t.equal(wrong.statusCode, 502, 'refused login → 502')
  t.match(wrong.json().error, /^v8_credentials_rejected$/, 'stable code')
  t.match(wrong.json().message, /Wrong email or password/, "carries the upstream's reason")
  t.notOk(wrong.body.includes('errada'), 'password not echoed')

  const ok = await app.inject(post('/config/v8/testar', { username: 'novo@empresa.com.br', password: 'sandbox' }))
  t.equal(ok.statusCode, 200, 'accepted login → 200')
  t.equal(ok.json().success, true, 'success')
  t.equal(ok.json().token_info.token_type, 'Bearer', 'token type')
  t.ok(ok.json().token_info.expires_in > 0, 'expires_in')
  t.notOk('access_token' in ok.json().token_info, 'the token itself is never returned')
  t.equal(store.get().V8_USERNAME, 'saved@empresa.com.br', 'testar saved nothing in memory')
  t.equal(fs.readFileSync(file, 'utf8'), fileBefore, 'testar did not touch the file')
  t.equal((await sandbox.stats()).tokens_by_user['novo@empresa.com.br'], 1, 'the test really logged in upstream')

  const bad = await app.inject(post('/config/v8/testar', { username: 'x', password: 1 }))
  t.equal(bad.statusCode, 400, 'wrong types → 400')

  // 3 calls so far count against 5 per minute.
  const rest = []
  for (let i = 0; i < 3; i++) rest.push(await app.inject(post('/config/v8/testar', { username: 'novo@empresa.com.br', password: 'errada' })))
  t.same(rest.map((r) => r.statusCode), [502, 502, 429], 'the 6th test within a minute → 429')
  t.equal(rest[2]!.json().error, 'muitas_tentativas', 'rate-limit code')
  t.match(rest[2]!.json().message, /tente de novo/, 'rate-limit message in Portuguese')
  const other = await app.inject({ ...post('/config/v8/testar', { username: 'novo@empresa.com.br', password: 'sandbox' }), remoteAddress: '10.0.0.2' })
  t.equal(other.statusCode, 200, 'another client is not limited')
  const atual = await app.inject({ method: 'GET', url: '/config/v8/atual', headers: AUTH })
  t.equal(atual.statusCode, 200, 'other config routes are not limited by the test limit')
})

t.test('testar maps a wrong audience and an unreachable V8', async (t) => {
  const sandbox = await startSandbox(t)
  const { app } = await build(t, { config: { ...sandbox.tenantConfig(), V8_AUDIENCE: 'https://outro.exemplo' } })
  const res = await app.inject(post('/config/v8/testar', { username: 'a@b.co', password: 'sandbox' }))
  t.equal(res.statusCode, 502, 'wrong audience → 502')
  t.match(res.json().error, /^v8_audience_invalid$/, 'audience code')
  t.match(res.json().message, /Service not enabled within domain/, 'upstream reason')

  const down = await build(t, { config: { ...sandbox.tenantConfig(), V8_AUTH_URL: 'http://127.0.0.1:9/oauth/token' } })
  const unreachable = await down.app.inject(post('/config/v8/testar', { username: 'a@b.co', password: 'sandbox' }))
  t.ok([502, 503, 504].includes(unreachable.statusCode), `unreachable V8 → 5xx gateway status (${unreachable.statusCode})`)
  t.equal(unreachable.json().success, false, 'error shape')
})

t.test('the next V8 call after salvar uses the new login; verificar reports reachability', async (t) => {
  const sandbox = await startSandbox(t)
  const { app } = await build(t, { config: sandbox.tenantConfig() })
  const first = await app.inject(post('/config/v8/verificar', {}))
  t.equal(first.statusCode, 200, 'verificar with the saved login → 200')
  t.equal(first.json().token.cached, true, 'token cached after verificar')
  t.equal((await sandbox.stats()).tokens_by_user['demo@sandbox.local'], 1, 'one token for the old user')

  const saved = await app.inject(post('/config/v8/salvar', { username: 'Outro@Sandbox.local', password: 'sandbox' }))
  t.equal(saved.statusCode, 200, 'saved')
  const overview = await app.inject({ method: 'GET', url: '/config/tenant', headers: AUTH })
  t.equal(overview.json().v8.token.cached, false, 'token dropped by the save')
  const second = await app.inject(post('/config/v8/verificar', {}))
  t.equal(second.statusCode, 200, 'verificar again → 200')
  const stats = await sandbox.stats()
  t.equal(stats.tokens_by_user['outro@sandbox.local'], 1, 'the next login used the new user')
  t.equal(stats.tokens_by_user['demo@sandbox.local'], 1, 'the old user was not asked again')

  await app.inject(post('/config/v8/salvar', { username: 'outro@sandbox.local', password: 'errada' }))
  const refused = await app.inject(post('/config/v8/verificar', {}))
  t.equal(refused.statusCode, 502, 'verificar with a wrong saved password → 502')
  const after = await app.inject({ method: 'GET', url: '/config/tenant', headers: AUTH })
  t.match(after.json().v8.token.last_error, /Wrong email or password/, 'overview reports the last error')
})

t.test('GET /config/tenant and POST /config/integracoes/salvar mask secrets; blank or *** keeps them', async (t) => {
  const sandbox = await startSandbox(t)
  const { app, store, db } = await fileTenant(t, sandbox.tenantConfig())
  const res = await app.inject({ method: 'GET', url: '/config/tenant', headers: AUTH })
  t.equal(res.statusCode, 200, '200')
  const o = res.json()
  t.equal(o.tenant, 'Teste', 'tenant name')
  t.equal(o.port, PORT, 'port')
  t.equal(o.v8.configurado, true, 'v8 configured')
  t.equal(o.kentro.api_key, '***', 'kentro key masked')
  t.equal(o.presencabank.senha, '***', 'presenca password masked')
  t.equal(o.kentro.queue_id, '25', 'queue id shown')
  t.same(o.fluxo, { sexo_padrao: '', campo_sexo_kentro: '', tabela_simulacao: 'sem_seguro' }, 'the flow settings shown: no default gender declared, no CRM gender key, tables without insurance first')
  for (const secret of ['sandbox', 'test-api-key']) t.notOk(res.body.includes(`"${secret}`), `no secret value (${secret}) in the overview`)

  const keep = await app.inject(post('/config/integracoes/salvar', { kentro: { api_key: '***', queue_id: '26', pipeline_ids: '1, 3' }, presencabank: { senha: '' } }))
  t.equal(keep.statusCode, 200, 'saved')
  t.same(keep.json().alteradas.sort(), ['KENTRO_PIPELINE_IDS', 'KENTRO_QUEUE_ID'], 'only what changed')
  t.equal(store.get().KENTRO_API_KEY, 'sandbox', '*** kept the Kentro key')
  t.equal(store.get().PRESENCABANK_PASSWORD, 'sandbox', 'blank kept the PresençaBank password')
  t.same(store.get().KENTRO_PIPELINE_IDS, [1, 3], 'pipelines saved')

  const change = await app.inject(post('/config/integracoes/salvar', { kentro: { api_key: 'nova#chave' }, presencabank: { senha: "s'enha", login: 'outro' } }))
  t.equal(change.statusCode, 200, 'secrets changed')
  t.equal(store.get().KENTRO_API_KEY, 'nova#chave', 'new Kentro key')
  t.equal(store.get().PRESENCABANK_PASSWORD, "s'enha", 'new PresençaBank password')
  t.notOk(change.body.includes('nova#chave'), 'new secret not echoed')

  for (const [name, body] of [
    ['bad url', { kentro: { api_url: 'ftp://x' } }],
    ['bad pipelines', { kentro: { pipeline_ids: '1;x' } }],
    ['bad queue', { kentro: { queue_id: 'abc' } }],
    ['wrong type', { presencabank: 'x' }],
  ] as const) {
    const r = await app.inject(post('/config/integracoes/salvar', body))
    t.equal(r.statusCode, 400, `${name} → 400`)
  }
  const audit = db.prepare("SELECT keys FROM config_audit WHERE action = 'integracoes'").all() as Array<{ keys: string }>
  t.equal(audit.length, 2, 'two audited integration saves')
  t.notOk(JSON.stringify(audit).includes('nova#chave'), 'audit without values')
})
