import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ConfigStore } from '../../src/config/store.js'
import { openDatabase } from '../../src/db/database.js'
import { createTenant } from '../../src/tenant.js'
import { createLogger } from '../../src/log/logger.js'
import { maskCpf, maskCpfsInText, maskUrl, scrubSecrets, secretScrubber } from '../../src/log/mask.js'
import { TEST_API_KEY, tempRoot, testConfig } from '../fixtures/config.js'

function readAll (dir: string): string {
  let text = ''
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name)
    if (entry.isFile()) text += fs.readFileSync(full, 'utf8')
  }
  return text
}

t.test('CPF masking', async (t) => {
  t.equal(maskCpf('123.456.789-01'), '***.***.*89-01', 'formatted CPF masked')
  t.equal(maskCpf('12345678901'), '***.***.*89-01', 'digits masked')
  t.equal(maskCpf('123'), '***', 'short input fully masked')
  t.equal(maskCpfsInText('cpf 12345678901 and 987.654.321-00 but not 1234567890123'), 'cpf ***.***.*89-01 and ***.***.*21-00 but not 1234567890123', 'masks CPFs in text, not longer numbers')
  t.equal(scrubSecrets('a "p\\"ww" b', ['p"ww']), 'a "[REDACTED]" b', 'JSON-escaped secret scrubbed')
  t.equal(scrubSecrets('abc', ['abc']), 'abc', 'secrets under 4 characters are not scrubbed (too many false hits)')
})

/** A secrets array that counts how often its items are read (each computation of their encoded forms reads them). */
function countedSecrets (items: string[]): { secrets: readonly string[]; reads: () => number } {
  let reads = 0
  const secrets = new Proxy(Object.freeze(items), {
    get (target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++
      return Reflect.get(target, key, receiver)
    },
  })
  return { secrets, reads: () => reads }
}

t.test('each owner of secrets keeps their encoded forms: two alternating never recompute, a new array is read at once', async (t) => {
  const a = countedSecrets(['senha-da-v8"x'])
  const b = countedSecrets(['chave-kentro/1'])
  let bSecrets = b.secrets
  const logger = secretScrubber(() => a.secrets)
  const urls = secretScrubber(() => bSecrets)
  const line = 'p=senha-da-v8\\"x k=chave-kentro%2F1 k=chave-kentro/1'
  t.equal(logger(line), 'p=[REDACTED] k=chave-kentro%2F1 k=chave-kentro/1', 'the logger scrubs its own secret (JSON-escaped), not the other\'s')
  t.equal(maskUrl('/x?k=chave-kentro%2F1&q=senha-da-v8', urls), '/x?k=[REDACTED]&q=senha-da-v8', 'the URL masker its own (percent-encoded)')
  const [readsA, readsB] = [a.reads(), b.reads()]
  t.ok(readsA > 0 && readsB > 0, 'each computed its forms once')
  for (let i = 0; i < 500; i++) {
    logger(line)
    urls(line)
  }
  t.same([a.reads(), b.reads()], [readsA, readsB], '1,000 alternating calls: no secrets array read again (one identity check each)')

  bSecrets = Object.freeze(['chave-nova-9'])
  t.equal(urls('k=chave-nova-9 k=chave-kentro/1'), 'k=[REDACTED] k=chave-kentro/1', 'a new array (a config save) is in force at the next call')
  t.equal(scrubSecrets('a senha-da-v8"x b', a.secrets), 'a [REDACTED] b', 'scrubSecrets: the same rule, for a one-off text')
})

t.test('an owner that builds a new array per call (the console): forms computed once per change of its secrets', async (t) => {
  let key = 'admin-key-1234'
  let computed = 0
  // Computing the forms filters the list; comparing it with the last one does not.
  const fresh = (): readonly string[] => new Proxy([key], {
    get (target, prop, receiver) {
      if (prop === 'filter') computed++
      return Reflect.get(target, prop, receiver)
    },
  })
  const scrub = secretScrubber(fresh)
  const lines = Array.from({ length: 100 }, () => scrub('x admin-key-1234'))
  t.ok(lines.every((l) => l === 'x [REDACTED]'), 'every call scrubbed')
  t.equal(computed, 1, '100 calls, 100 arrays with the same secret: forms computed once')
  key = 'admin-key-5678'
  t.equal(scrub('admin-key-5678 admin-key-1234'), '[REDACTED] admin-key-1234', 'a rotated key is in force at the next call')
  t.equal(computed, 2, 'computed again for the change')
})

t.test('a request carrying the API key and a password leaves neither in any log file', async (t) => {
  const root = tempRoot(t)
  const password = 'S3nh@-Secreta#"123'
  const store = new ConfigStore(testConfig(6999, { V8_USERNAME: 'u@x.com', V8_PASSWORD: password, KENTRO_API_KEY: 'kentro-key-123456' }))
  const log = await createLogger({ level: 'debug', target: 'files', logsDir: path.join(root, 'logs'), name: '6999', secrets: () => store.secrets() })
  const db = openDatabase(':memory:')
  const { app, close } = await createTenant({ config: store, db, logger: log.logger })
  await app.inject({ method: 'POST', url: `/config/v8/testar?apiKey=${TEST_API_KEY}`, headers: { authorization: `Bearer ${TEST_API_KEY}` }, payload: { username: 'u@x.com', password } })
  await app.inject({ method: 'GET', url: '/cache/simulacao/12345678901', headers: { authorization: `Bearer wrong-${TEST_API_KEY}` } })
  await app.inject({ method: 'GET', url: `/health?token=${encodeURIComponent(password)}` })
  // Direct log calls with secrets in well-known and unknown places.
  log.logger.info({ headers: { authorization: `Bearer ${TEST_API_KEY}` }, password, nested: { V8_PASSWORD: password, apiKey: 'kentro-key-123456' } }, 'with secrets')
  log.logger.error({ err: new Error(`upstream said: bad password ${password}`) }, 'error with secret in message')
  log.logger.info('cpf 12345678901 in a message')
  await close()
  await log.close()
  const text = readAll(path.join(root, 'logs'))
  t.ok(text.length > 0, 'something was logged')
  t.match(text, /with secrets/, 'the lines are there')
  t.notOk(text.includes(TEST_API_KEY), 'API key absent from every log file')
  t.notOk(text.includes(password) || text.includes(JSON.stringify(password).slice(1, -1)), 'password absent from every log file')
  t.notOk(text.includes('kentro-key-123456'), 'Kentro key absent')
  t.notOk(text.includes('12345678901'), 'CPF absent in clear')
  t.match(text, /\*\*\*\.\*\*\*\.\*89-01/, 'CPF present masked')
  const errFile = fs.readFileSync(path.join(root, 'logs', 'error-6999.log'), 'utf8')
  t.match(errFile, /error with secret in message/, 'errors go to the error file')
  t.notOk(errFile.includes('with secrets'), 'info lines stay out of the error file')
})
