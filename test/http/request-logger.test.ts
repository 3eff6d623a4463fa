import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { pino } from 'pino'
import t from 'tap'
import { requestLoggerFactory } from '../../src/http/request-logger.js'

function capture (level = 'info'): { logger: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { out.push(String(chunk)); cb() } })
  const logger = pino({ level, redact: { paths: ['*.password', 'password'], censor: '[REDACTED]' } }, stream)
  return { logger, lines: () => out.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) }
}

t.test('a request logger writes what a pino child would: request id, level, redaction, errors', async (t) => {
  const { logger, lines } = capture('info')
  const app = Fastify({ loggerInstance: logger, childLoggerFactory: requestLoggerFactory, disableRequestLogging: true })
  app.get('/obj', async (req) => { req.log.info({ user: { password: 'p4ss' }, n: 1 }, 'with object'); return {} })
  app.get('/msg', async (req) => { req.log.warn('only a message %s', 'x'); return {} })
  app.get('/err', async (req) => { req.log.error(new Error('boom')); return {} })
  app.get('/quiet', { logLevel: 'warn' }, async (req) => { req.log.info({ n: 2 }, 'dropped'); t.notOk(req.log.isLevelEnabled?.('info'), 'route level answered'); return {} })
  app.get('/debug', { logLevel: 'debug' }, async (req) => { req.log.debug({ n: 3 }, 'route lower than parent'); return {} })
  app.get('/child', async (req) => { req.log.child({ part: 'x' }).info({ n: 4 }, 'from a child'); return {} })
  for (const url of ['/obj', '/msg', '/err', '/quiet', '/debug', '/child']) t.equal((await app.inject({ url })).statusCode, 200, url)
  const byMsg = new Map(lines().map((l) => [l['msg'], l]))
  t.ok(lines().every((l) => typeof l['reqId'] === 'string'), 'every line carries its request id')
  t.match(byMsg.get('with object'), { n: 1, user: { password: '[REDACTED]' }, level: 30 }, 'object line through the parent, redacted')
  t.match(byMsg.get('only a message x'), { level: 40 }, 'message-only line')
  t.match(byMsg.get('boom'), { level: 50, err: { message: 'boom' } }, 'an Error first is serialized as err')
  t.notOk(byMsg.has('dropped'), "a line below the route's level is dropped")
  t.match(byMsg.get('route lower than parent'), { level: 20, n: 3 }, "a route level below the parent's still logs")
  t.match(byMsg.get('from a child'), { part: 'x', n: 4 }, 'child() works')
  await app.close()
})
