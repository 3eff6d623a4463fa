/**
 * Finding 1 (config injection through line separators), against a real tenant process: the attack value is
 * refused, an old file holding one is edited whole, and random values saved through the real routes never move
 * another key (fast-check).
 */
import fs from 'node:fs'
import fc from 'fast-check'
import t from 'tap'
import { parseEnvText } from '../../src/config/env-file.js'
import { parseTenantConfig } from '../../src/config/load.js'
import { TEST_API_KEY } from '../fixtures/config.js'
import { call, closeAgents, NEEDS_BUILD, startSecuredTenant } from '../fixtures/security.js'

t.teardown(closeAgents)

const EVIL = 'x\u2028\nV8_AUTH_URL=https://evil.example/oauth/token\nAPI_KEY=stolen-stolen-stolen-stolen-stolen'

t.test('the U+2028 attack value is refused with a 400 naming the character; nothing changes', { skip: NEEDS_BUILD }, async (t) => {
  const tenant = await startSecuredTenant(t)
  const before = fs.readFileSync(tenant.configFile, 'utf8')
  for (const password of [EVIL, EVIL.replace('\u2028', '\u2029'), 'x\u0085API_KEY=y', 'x\u0000y', 'x\ry']) {
    const res = await call(tenant, 'POST', '/config/v8/salvar', { json: { username: 'a@b.co', password } })
    t.equal(res.status, 400, 'refused')
    t.equal(res.body.error, 'valor_nao_suportado', 'stable code')
    t.match(res.body.message, /senha da V8.*caractere de controle ou de quebra de linha \(U\+[0-9A-F]{4}\)/, 'says which value and which character')
  }
  const kentro = await call(tenant, 'POST', '/config/integracoes/salvar', { json: { kentro: { api_key: EVIL }, presencabank: { login: 'a\u2028b' } } })
  t.equal(kentro.status, 400, 'integrations save refused too')
  t.equal(fs.readFileSync(tenant.configFile, 'utf8'), before, 'the file is byte for byte the same')
  const ok = await call(tenant, 'POST', '/config/v8/salvar', { json: { username: 'a@b.co', password: 'fine' } })
  t.equal(ok.status, 200, 'the same key still saves a clean value')
  const keys = parseEnvText(fs.readFileSync(tenant.configFile, 'utf8'))
  t.equal(keys['API_KEY'], TEST_API_KEY, 'API_KEY untouched')
  t.notOk('V8_AUTH_URL' in keys, 'no V8_AUTH_URL entry appeared')
})

t.test('a file the old writer left with a U+2028 value: the next save replaces the whole value, no key leaks', { skip: NEEDS_BUILD }, async (t) => {
  // Start once to have a root and a port, then plant what the previous writer stored after the first save.
  const first = await startSecuredTenant(t)
  await first.stop()
  const planted = fs.readFileSync(first.configFile, 'utf8') + `V8_USERNAME='a@b.co'\nV8_PASSWORD='${EVIL}'\n`
  fs.writeFileSync(first.configFile, planted, { mode: 0o600 })
  t.same(
    Object.keys(parseEnvText(planted)).filter((k) => k === 'V8_AUTH_URL'),
    [],
    'the planted file holds the attack inside one quoted value'
  )
  const tenant = await startSecuredTenant(t, { root: first.root, port: first.port, writeConfig: false })
  const res = await call(tenant, 'POST', '/config/v8/salvar', { json: { username: 'a@b.co', password: 'second-save' } })
  t.equal(res.status, 200, 'the second save goes through')
  const after = parseEnvText(fs.readFileSync(tenant.configFile, 'utf8'))
  t.equal(after['V8_PASSWORD'], 'second-save', 'the whole old value was replaced')
  t.notOk('V8_AUTH_URL' in after, 'no V8_AUTH_URL line survived as a key')
  t.equal(after['API_KEY'], TEST_API_KEY, 'API_KEY is still the real key')
  const stolen = await call(tenant, 'GET', '/config/tenant', { key: 'stolen-stolen-stolen-stolen-stolen' })
  t.equal(stolen.status, 401, 'the injected key opens nothing')
})

/** Characters that break line-based formats, quotes, and ordinary ones. */
const special = fc.constantFrom('\n', '\r', '\r\n', '\u2028', '\u2029', '\u0000', '\u0085', '\t', '\u000b', '\u000c', '\u001b', '\u007f',
  "'", '"', '`', '\\', '#', '=', ' ', '$', '&', 'API_KEY=', 'V8_AUTH_URL=', 'export ', '\ufeff', 'ç', '€')
const plain = fc.constantFrom('a', 'b', 'Z', '0', '9', '.', '-', '_', '@')
const value = fc.string({ unit: fc.oneof(special, plain, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 24 })

type Save =
  | { route: 'v8'; username: string; password: string }
  | { route: 'integracoes'; apiKey: string; login: string; senha: string; pipelines: string }

const save: fc.Arbitrary<Save> = fc.oneof(
  fc.record({ route: fc.constant('v8' as const), username: fc.tuple(value, value).map(([a, b]) => `u${a}@e${b}.com`), password: value }),
  fc.record({
    route: fc.constant('integracoes' as const),
    apiKey: value,
    login: value,
    senha: value,
    pipelines: fc.constantFrom('1,3,4', '2', '5, 6'),
  })
)

const KEYS_OF = {
  v8: ['V8_USERNAME', 'V8_PASSWORD'],
  integracoes: ['KENTRO_API_KEY', 'KENTRO_PIPELINE_IDS', 'PRESENCABANK_LOGIN', 'PRESENCABANK_PASSWORD'],
} as const

// eslint-disable-next-line no-control-regex -- the point: every control character and line separator
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

t.test('random values saved through the real routes never change another key, and the file reloads to them', { skip: NEEDS_BUILD }, async (t) => {
  const tenant = await startSecuredTenant(t, { config: { V8_USERNAME: 'start@b.co', V8_PASSWORD: 'start', PRESENCABANK_LOGIN: 'start' } })
  let saved = 0
  let refused = 0
  await fc.assert(
    fc.asyncProperty(save, async (s) => {
      const beforeText = fs.readFileSync(tenant.configFile, 'utf8')
      const before = parseEnvText(beforeText)
      const body = s.route === 'v8'
        ? { username: s.username, password: s.password }
        : { kentro: { api_key: s.apiKey, pipeline_ids: s.pipelines }, presencabank: { login: s.login, senha: s.senha } }
      const res = await call(tenant, 'POST', s.route === 'v8' ? '/config/v8/salvar' : '/config/integracoes/salvar', { json: body })
      const afterText = fs.readFileSync(tenant.configFile, 'utf8')
      const after = parseEnvText(afterText)
      if (res.status !== 200) {
        if (res.status !== 400) throw new Error(`status ${res.status}: ${res.text}`)
        if (afterText !== beforeText) throw new Error('a refused save changed the file')
        refused++
        return
      }
      // Whatever a route trims or keeps, nothing it stores holds a control character or line separator.
      for (const k of res.body.alteradas as string[]) if (FORBIDDEN.test(after[k] ?? '')) throw new Error(`${k} stored a control character`)
      const intended = new Set<string>(KEYS_OF[s.route])
      for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
        if (!intended.has(key) && before[key] !== after[key]) throw new Error(`${key} changed: ${JSON.stringify(before[key])} → ${JSON.stringify(after[key])}`)
      }
      const changed = new Set<string>(res.body.alteradas as string[])
      for (const key of intended) {
        if (!changed.has(key) && before[key] !== after[key]) throw new Error(`${key} changed but was not reported`)
      }
      if (s.route === 'v8' && changed.has('V8_PASSWORD') && after['V8_PASSWORD'] !== s.password) throw new Error('password stored differently')
      if (s.route === 'integracoes' && changed.has('KENTRO_API_KEY') && after['KENTRO_API_KEY'] !== s.apiKey) throw new Error('Kentro key stored differently')
      // The whole file still loads, and what it says is what the tenant now uses.
      const loaded = parseTenantConfig(afterText, tenant.configFile, tenant.port).config
      const view = await call(tenant, 'GET', '/config/tenant')
      if (view.body.v8.username !== loaded.V8_USERNAME || view.body.presencabank.login !== loaded.PRESENCABANK_LOGIN) {
        throw new Error('the running tenant and the file disagree')
      }
      if (loaded.API_KEY !== TEST_API_KEY) throw new Error('API_KEY moved')
      saved++
    }),
    { numRuns: 250, seed: 20261129 }
  )
  t.ok(saved > 20, `many saves went through (${saved})`)
  t.ok(refused > 20, `many were refused (${refused})`)

  // Restarted from the file alone, the tenant serves exactly what the file holds.
  const fileNow = parseTenantConfig(fs.readFileSync(tenant.configFile, 'utf8'), tenant.configFile, tenant.port).config
  const stopped = await tenant.stop()
  t.equal(stopped.code, 0, 'clean stop')
  const again = await startSecuredTenant(t, { root: tenant.root, port: tenant.port, writeConfig: false })
  const view = await call(again, 'GET', '/config/tenant')
  t.equal(view.body.v8.username, fileNow.V8_USERNAME, 'reloaded username')
  t.equal(view.body.presencabank.login, fileNow.PRESENCABANK_LOGIN, 'reloaded PresençaBank login')
  t.equal(view.body.kentro.pipeline_ids, fileNow.KENTRO_PIPELINE_IDS.join(','), 'reloaded pipelines')
})
