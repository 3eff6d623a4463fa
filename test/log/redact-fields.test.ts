import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { createLogger } from '../../src/log/logger.js'
import { SECRET_KEYS } from '../../src/config/schema.js'
import { REDACTED, SECRET_FIELDS, redactFields } from '../../src/log/redact.js'
import { tempRoot } from '../fixtures/config.js'

t.test('secret-named fields are replaced at the top level and two levels down, nothing else changes', async (t) => {
  const input = {
    password: 'p1',
    url: '/x',
    nested: { V8_PASSWORD: 'p2', keep: 1, deeper: { token: 'p3', keep: 2 } },
    req: { headers: { authorization: 'Bearer p4', cookie: 'sid=p5', host: 'h' } },
    list: [{ apiKey: 'p6' }, 'plain'],
  }
  const before = JSON.stringify(input)
  const out = redactFields(input)
  t.equal(JSON.stringify(input), before, 'the caller\'s object is not modified')
  t.same(out, {
    password: REDACTED,
    url: '/x',
    nested: { V8_PASSWORD: REDACTED, keep: 1, deeper: { token: REDACTED, keep: 2 } },
    req: { headers: { authorization: REDACTED, cookie: REDACTED, host: 'h' } },
    list: [{ apiKey: REDACTED }, 'plain'],
  }, 'every secret-named value replaced, at each level')
  t.ok(Array.isArray((out as { list: unknown }).list), 'an array stays an array')
})

t.test('an object without secret-named fields is returned as is (no copy for a request line)', async (t) => {
  const line = { method: 'GET', url: '/cache/simulacao/x', statusCode: 200, nested: { a: 1 } }
  t.equal(redactFields(line), line, 'same object')
})

t.test('an Error holding a secret-named property keeps its message and stack', async (t) => {
  const err = Object.assign(new Error('upstream failed'), { config: { password: 'p7' } })
  const out = redactFields({ err }) as { err: { message: string; stack: string; config: { password: string } } }
  t.equal(out.err.message, 'upstream failed', 'message kept')
  t.match(out.err.stack, /upstream failed/, 'stack kept')
  t.equal(out.err.config.password, REDACTED, 'the nested secret replaced')
  t.equal(err.config.password, 'p7', 'the original error untouched')
})

t.test('the names cover every secret setting of a tenant', async (t) => {
  for (const name of [...SECRET_KEYS, 'authorization', 'password', 'senha', 'token']) {
    t.ok(SECRET_FIELDS.has(name), `${name} is redacted by name`)
  }
})

t.test('through the logger: values no configured secret matches are still kept out of the files', async (t) => {
  const root = tempRoot(t)
  const log = await createLogger({ level: 'info', target: 'files', logsDir: path.join(root, 'logs'), name: '6998' })
  const child = log.logger.child({ token: 'child-binding-secret-1' })
  log.logger.info({ password: 'unknown-secret-aaa', nested: { senha: 'unknown-secret-bbb' }, req: { headers: { authorization: 'Bearer unknown-secret-ccc' } } }, 'line one')
  child.info('line two')
  await log.close()
  const text = fs.readFileSync(path.join(root, 'logs', '6998', 'out.log'), 'utf8')
  t.match(text, /line one/, 'first line written')
  t.match(text, /line two/, 'child line written')
  t.notMatch(text, /unknown-secret|child-binding-secret/, 'no secret value in the file')
  t.equal(text.split(REDACTED).length - 1, 4, 'four values redacted')
})
