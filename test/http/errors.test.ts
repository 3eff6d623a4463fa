/** The error handler's log lines: an upstream's refusal is one warning without a stack; our own failure is an error with it. */
import { Writable } from 'node:stream'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { pino } from 'pino'
import t from 'tap'
import { registerErrorHandling } from '../../src/http/errors.js'
import { UpstreamError } from '../../src/upstream/errors.js'

t.test('a wrong V8 password is a warning with V8\'s reason; a bug is an error with its stack', async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb() } })
  const app = Fastify({ loggerInstance: pino({ level: 'info' }, sink) as FastifyBaseLogger })
  registerErrorHandling(app)
  app.get('/upstream', async () => { throw new UpstreamError('v8_credentials_rejected', 'A V8 recusou o login: Wrong email or password.', 502, 'V8') })
  app.get('/bug', async () => { throw new Error('boom') })
  t.teardown(() => app.close())

  const refused = await app.inject({ method: 'GET', url: '/upstream' })
  t.equal(refused.statusCode, 502, 'still a 502 for the caller')
  const warn = lines.find((l) => l['msg'] === 'upstream refused or failed')
  t.match(warn, { level: 40, code: 'v8_credentials_rejected', upstream: 'V8', reason: /Wrong email or password/ }, 'one warning naming the upstream and its reason')
  t.notOk(lines.some((l) => Number(l['level']) >= 50), 'no error line')
  t.notOk(JSON.stringify(lines).includes('"stack"'), 'no stack trace')

  lines.length = 0
  t.equal((await app.inject({ method: 'GET', url: '/bug' })).statusCode, 500, 'a bug is a 500')
  t.match(lines.find((l) => l['level'] === 50), { msg: 'request failed', err: { stack: /boom/ } }, 'logged as an error with its stack')
})
