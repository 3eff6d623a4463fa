import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ConfigError } from '../../src/config/errors.js'
import { loadTenantConfig } from '../../src/config/load.js'
import { stageByStatus, stageOfPipeline, webhooksConfigured } from '../../src/config/schema.js'
import { configText, tempRoot, writeTenantConfig } from '../fixtures/config.js'

t.test('a good file loads into a typed config with defaults', async (t) => {
  const root = tempRoot(t)
  writeTenantConfig(root, 6000, { KENTRO_PIPELINE_IDS: '1, 3,4', V8_PROVIDER: 'CELCOIN', KENTRO_STAGE_BY_PIPELINE: '1:4, 3 : 31' })
  const { config, warnings } = loadTenantConfig(root, 6000)
  t.equal(config.PORT, 6000, 'port')
  t.equal(config.V8_AUTH_URL, 'https://auth.v8sistema.com/oauth/token', 'real auth host by default')
  t.equal(config.V8_AUDIENCE, 'https://bff.v8sistema.com', 'audience default')
  t.same(config.KENTRO_PIPELINE_IDS, [1, 3, 4], 'pipeline list parsed')
  t.equal(config.KENTRO_STAGE_BY_PIPELINE, '1:4,3:31', 'per-pipeline stages checked and normalized')
  t.same([stageOfPipeline(config, 1), stageOfPipeline(config, 3), stageOfPipeline(config, 4)], [4, 31, undefined], 'and read per pipeline')
  t.equal(config.V8_PROVIDER, 'CELCOIN', 'provider read')
  t.equal(config.BATCH_CONCURRENCY, 4, 'batch concurrency default')
  t.same(warnings, [], 'no warnings')
  t.ok(Object.isFrozen(config), 'config is frozen')
})

t.test('a missing file says how to create it', async (t) => {
  const root = tempRoot(t)
  t.throws(() => loadTenantConfig(root, 6001), { name: 'ConfigError', message: /config-6001\.env: no config for port 6001; run npm run tenant:add 6001/ }, 'names the command')
})

t.test('each kind of bad file gives one line naming file and key', async (t) => {
  const root = tempRoot(t)
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['short API key', { API_KEY: 'abc' }, /API_KEY .*at least 32/],
    ['bad provider', { V8_PROVIDER: 'XYZ' }, /V8_PROVIDER/],
    ['bad url', { V8_AUTH_URL: 'not a url' }, /V8_AUTH_URL .*URL/],
    ['bad pipelines', { KENTRO_PIPELINE_IDS: '1;2' }, /KENTRO_PIPELINE_IDS .*comma-separated/],
    ['bad stage pairs', { KENTRO_STAGE_BY_PIPELINE: '1-4' }, /KENTRO_STAGE_BY_PIPELINE .*pipeline:stage/],
    ['port mismatch', { PORT: '6003' }, /PORT is 6003 but this file is for port 6002/],
    ['non-numeric concurrency', { BATCH_CONCURRENCY: 'many' }, /BATCH_CONCURRENCY/],
    ['TRUST_PROXY=true', { TRUST_PROXY: 'true' }, /TRUST_PROXY true is no longer accepted.*TRUST_PROXY=127\.0\.0\.1/],
    ['TRUST_PROXY junk', { TRUST_PROXY: '10.0.0.0/8, proxy.local' }, /TRUST_PROXY "proxy\.local" is not an address/],
    ['TRUST_PROXY hops', { TRUST_PROXY: '11' }, /TRUST_PROXY as a hop count/],
    ['callback URL without a secret', { CALLBACK_URL: 'https://client.example.com/cb' }, /CALLBACK_SECRET is missing/],
    ['callback secret too short', { CALLBACK_URL: 'https://client.example.com/cb', CALLBACK_SECRET: 'short' }, /CALLBACK_SECRET must be at least 32 characters when CALLBACK_URL is set/],
    ['bad stage map', { KENTRO_STAGE_BY_STATUS: 'paid=30' }, /KENTRO_STAGE_BY_STATUS must be status:stage pairs/],
    ['bad public url', { PUBLIC_URL: 'clt.example.com' }, /PUBLIC_URL .*URL/],
    ['callback to loopback', { CALLBACK_URL: 'http://127.0.0.1:9000/cb', CALLBACK_SECRET: 'x'.repeat(32) }, /CALLBACK_URL /],
    ['callback over plain http', { CALLBACK_URL: 'http://client.example.com/cb', CALLBACK_SECRET: 'x'.repeat(32) }, /CALLBACK_URL /],
  ]
  for (const [name, extra, re] of cases) {
    const file = writeTenantConfig(root, 6002, extra)
    try {
      loadTenantConfig(root, 6002)
      t.fail(`${name}: should have thrown`)
    } catch (err) {
      t.ok(err instanceof ConfigError, `${name}: ConfigError`)
      const msg = (err as Error).message
      t.match(msg, re, `${name}: message names the key (${msg})`)
      t.ok(msg.startsWith(file), `${name}: message starts with the file`)
      t.notOk(msg.includes('\n'), `${name}: one line`)
    }
  }
  fs.writeFileSync(path.join(root, 'tenants', 'config-6004.env'), 'PORT=6004\n')
  t.throws(() => loadTenantConfig(root, 6004), { message: /API_KEY is missing/ }, 'missing key named')
})

t.test('TRUST_PROXY: false, addresses and CIDRs, or a hop count (with a warning)', async (t) => {
  const root = tempRoot(t)
  writeTenantConfig(root, 6006, { TRUST_PROXY: '127.0.0.1, 10.0.0.0/8, loopback' })
  t.same(loadTenantConfig(root, 6006).config.TRUST_PROXY, ['127.0.0.1', '10.0.0.0/8', 'loopback'], 'addresses')
  writeTenantConfig(root, 6007, { TRUST_PROXY: '2' })
  const hops = loadTenantConfig(root, 6007)
  t.equal(hops.config.TRUST_PROXY, 2, 'hop count')
  t.ok(hops.warnings.some((w) => /prefer the proxy's address/i.test(w)), 'a hop count comes with a warning')
  writeTenantConfig(root, 6008, { TRUST_PROXY: 'false' })
  t.equal(loadTenantConfig(root, 6008).config.TRUST_PROXY, false, 'false')
})

t.test('an error never echoes a secret value', async (t) => {
  const root = tempRoot(t)
  writeTenantConfig(root, 6005, { API_KEY: 'supersecret' })
  let message = ''
  try {
    loadTenantConfig(root, 6005)
  } catch (err) {
    message = (err as Error).message
  }
  t.match(message, /API_KEY/, 'the key is named')
  t.notOk(message.includes('supersecret'), 'the value is not in the message')
})

t.test('a seed-system file (no API_KEY, seed key names) loads once completed', async (t) => {
  const root = tempRoot(t)
  const seed = `# V8 Digital API - Porta 6006
V8_API_URL=https://bff.v8sistema.com
V8_CLIENT_ID=DHWogdaYmEI8n5bwwxPDzulMlSK7dwIn
V8_AUDIENCE=https://bff.v8sistema.com
V8_USERNAME=cliente@email.com
V8_PASSWORD=senha_do_cliente
KENTRO_API_URL=https://lunasdigital.atenderbem.com/int
KENTRO_TOKEN=token_do_cliente
KENTRO_API_KEY=cd4d0509169d4e2ea9177ac66c1c9376
KENTRO_QUEUE_ID=25
PORT=6006
NODE_ENV=production
LOG_LEVEL=info
LOG_FILE=logs/app-6006.log
API_KEY=${'k'.repeat(40)}
`
  fs.writeFileSync(path.join(root, 'tenants', 'config-6006.env'), seed)
  const { config, warnings } = loadTenantConfig(root, 6006)
  t.equal(config.V8_USERNAME, 'cliente@email.com', 'seed value kept')
  t.equal(config.KENTRO_QUEUE_ID, 25, 'queue id numeric')
  t.ok(warnings.some((w) => w.startsWith('KENTRO_TOKEN')), 'seed-only key reported, not fatal')
  t.ok(warnings.some((w) => w.startsWith('NODE_ENV')), 'NODE_ENV ignored with a note')
})

t.test('values in the shell environment never reach the loaded config', async (t) => {
  const root = tempRoot(t)
  writeTenantConfig(root, 6007)
  const saved = { ...process.env }
  process.env['V8_PASSWORD'] = 'from-the-shell'
  process.env['V8_USERNAME'] = 'shell@user'
  process.env['API_KEY'] = 'x'.repeat(40)
  t.teardown(() => {
    for (const k of ['V8_PASSWORD', 'V8_USERNAME', 'API_KEY']) delete process.env[k]
    Object.assign(process.env, saved)
  })
  const { config } = loadTenantConfig(root, 6007)
  t.equal(config.V8_PASSWORD, '', 'password from the file only (empty)')
  t.equal(config.V8_USERNAME, '', 'username from the file only')
  t.not(config.API_KEY, 'x'.repeat(40), 'API key from the file only')
  const before = { ...process.env }
  loadTenantConfig(root, 6007)
  t.same(process.env, before, 'loading writes nothing into process.env')
})

t.test('configText fixture is itself valid', async (t) => {
  t.match(configText(6008), /PORT='6008'/, 'renders port')
})

t.test('webhook and callback settings: off by default, the stage map read as pairs', async (t) => {
  const root = tempRoot(t)
  writeTenantConfig(root, 6010)
  const off = loadTenantConfig(root, 6010).config
  t.same([off.PUBLIC_URL, off.CALLBACK_URL, off.CALLBACK_SECRET, off.CALLBACK_MAX_ATTEMPTS, off.KENTRO_STAGE_BY_STATUS, off.DEFAULT_NATIONALITY], ['', '', '', 12, '', ''], 'nothing registered, nothing sent, nothing declared')
  writeTenantConfig(root, 6011, { PUBLIC_URL: 'https://clt.example.com/6011', CALLBACK_URL: 'https://client.example.com/cb', CALLBACK_SECRET: 'x'.repeat(32), KENTRO_STAGE_BY_STATUS: 'formalization:22, paid : 30' })
  const on = loadTenantConfig(root, 6011).config
  t.same(stageByStatus(on), { formalization: 22, paid: 30 }, 'status → stage')
  t.ok(webhooksConfigured({ ...on, V8_USERNAME: 'u', V8_PASSWORD: 'p' }), 'webhooks need PUBLIC_URL and a V8 login')
  t.notOk(webhooksConfigured(on), 'without a V8 login there is nothing to register with')
})
