/**
 * Diagnostic for the HTTP bench: the bare hello-world with a tenant's production layers added one at a time, so the
 * gap between bare fastify and GET /health can be split into logger, headers and the route's own work.
 * `--prod-logger`: src/log/logger.ts createLogger exactly as main.ts calls it (rotated files, redact, CPF masking,
 * secret scrubbing) with the app's request logging (src/http/request-log.ts: one line per request).
 * `--headers`: the app's security headers (src/http/security-headers.ts). The production pieces are imported, not copied.
 * `node layers.js --port P --logs DIR [--prod-logger] [--headers]`.
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { pino } from 'pino'
import { RequestLog } from '../../src/http/request-log.js'
import { registerSecurityHeaders } from '../../src/http/security-headers.js'
import { createLogger } from '../../src/log/logger.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    logs: { type: 'string' },
    'prod-logger': { type: 'boolean', default: false },
    headers: { type: 'boolean', default: false },
  },
})
if (!values.port || !values.logs) throw new Error('usage: layers --port P --logs DIR [--prod-logger] [--headers]')
const port = Number(values.port)
const name = `layers-${values['prod-logger'] ? 'prod' : 'plain'}${values.headers ? '-headers' : ''}`

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

const app = Fastify({ loggerInstance: logger, ...(values['prod-logger'] ? { logController: new RequestLog() } : {}) })
if (values.headers) registerSecurityHeaders(app)
app.get('/', async () => ({ hello: 'world' }))

const stop = async (): Promise<void> => {
  await app.close()
  flush()
  process.exit(0)
}
process.once('SIGTERM', () => { void stop() })
process.once('SIGINT', () => { void stop() })
await app.listen({ port, host: '127.0.0.1' })
