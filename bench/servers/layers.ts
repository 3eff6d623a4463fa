/**
 * Diagnostic for the HTTP bench: the bare hello-world with a tenant's production layers added one at a time, so the
 * gap between bare fastify and GET /health can be split into logger, headers and the route's own work.
 * `--prod-logger`: src/log/logger.ts createLogger exactly as main.ts calls it (rotated files, redact, CPF masking,
 * secret scrubbing). `--helmet`: @fastify/helmet with the options of src/http/app.ts (copied here; keep in step).
 * `--helmet-once`: the same headers from helmet's middleware built once at start (@fastify/helmet builds it per request).
 * `node layers.js --port P --logs DIR [--prod-logger] [--helmet | --helmet-once]`.
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import helmet from '@fastify/helmet'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import helmetMiddleware from 'helmet'
import { pino } from 'pino'
import { createLogger } from '../../src/log/logger.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    logs: { type: 'string' },
    'prod-logger': { type: 'boolean', default: false },
    helmet: { type: 'boolean', default: false },
    'helmet-once': { type: 'boolean', default: false },
  },
})
if (!values.port || !values.logs) throw new Error('usage: layers --port P --logs DIR [--prod-logger] [--helmet]')
const port = Number(values.port)
const name = `layers-${values['prod-logger'] ? 'prod' : 'plain'}${values.helmet ? '-helmet' : ''}${values['helmet-once'] ? '-helmet-once' : ''}`

/** src/http/app.ts's helmet options. */
const HELMET_OPTIONS = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
  },
  hsts: false,
} as const

let flush = (): void => undefined
let logger: FastifyBaseLogger
if (values['prod-logger']) {
  const log = await createLogger({
    level: 'info',
    target: 'files',
    logsDir: values.logs,
    name,
    secrets: () => ['bench-secret-value-0123456789abcdef0123'],
    pretty: false,
    base: { port, tenant: 'layers', pid: process.pid },
  })
  logger = log.logger as FastifyBaseLogger
  flush = () => log.flushSync()
} else {
  const dest = pino.destination({ dest: path.join(values.logs, `${name}.log`), sync: false, minLength: 0, mkdir: true })
  logger = pino({ level: 'info' }, dest) as FastifyBaseLogger
  flush = () => dest.flushSync()
}

const app = Fastify({ loggerInstance: logger })
if (values.helmet) await app.register(helmet, HELMET_OPTIONS)
if (values['helmet-once']) {
  const setHeaders = helmetMiddleware(HELMET_OPTIONS)
  app.addHook('onRequest', (request, reply, done) => {
    setHeaders(request.raw, reply.raw, (err?: unknown) => done(err as Error | undefined))
  })
}
app.get('/', async () => ({ hello: 'world' }))

const stop = async (): Promise<void> => {
  await app.close()
  flush()
  process.exit(0)
}
process.once('SIGTERM', () => void stop())
process.once('SIGINT', () => void stop())
await app.listen({ port, host: '127.0.0.1' })
