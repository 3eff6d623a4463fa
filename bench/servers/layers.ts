/**
 * Diagnostic for the HTTP bench: the bare hello-world with a tenant's production layers added one at a time, so the
 * gap between bare fastify and GET /health can be split into logger, headers and the route's own work.
 * `--prod-logger`: src/log/logger.ts createLogger exactly as main.ts calls it (rotated files, redact, CPF masking,
 * secret scrubbing) with the app's request logging (src/http/request-log.ts: one line per request).
 * `--headers`: the app's security headers (src/http/security-headers.ts). The production pieces are imported, not copied.
 * `--no-logger`: no logger at all (as the baseline), so `--headers --body-bytes N` answers what a route pays for
 * the headers and a body of N bytes alone: the ceiling of a route that logs nothing, such as a healthy /health.
 * `--body-bytes N`: the JSON body padded to N bytes (default: the baseline's `{"hello":"world"}`).
 * `node layers.js --port P --logs DIR [--prod-logger | --no-logger] [--headers] [--body-bytes N]`.
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
    'no-logger': { type: 'boolean', default: false },
    'body-bytes': { type: 'string' },
  },
})
const usage = 'usage: layers --port P --logs DIR [--prod-logger | --no-logger] [--headers] [--body-bytes N]'
if (!values.port || !values.logs || (values['prod-logger'] && values['no-logger'])) throw new Error(usage)
const bodyBytes = values['body-bytes'] === undefined ? undefined : Number(values['body-bytes'])
if (bodyBytes !== undefined && !(Number.isInteger(bodyBytes) && bodyBytes >= 32)) throw new Error(`--body-bytes must be an integer ≥ 32: ${usage}`)
const port = Number(values.port)
const name = `layers-${values['prod-logger'] ? 'prod' : 'plain'}${values.headers ? '-headers' : ''}${bodyBytes ? `-${bodyBytes}b` : ''}`

/** The answer: the baseline's object, or one padded to exactly `bodyBytes` bytes of JSON. */
const body = bodyBytes === undefined
  ? { hello: 'world' }
  : { hello: 'world', pad: 'x'.repeat(bodyBytes - JSON.stringify({ hello: 'world', pad: '' }).length) }

let flush = (): void => undefined
let logger: FastifyBaseLogger | undefined
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
} else if (!values['no-logger']) {
  const dest = pino.destination({ dest: path.join(values.logs, `${name}.log`), sync: false, minLength: 0, mkdir: true })
  logger = pino({ level: 'info' }, dest) as FastifyBaseLogger
  flush = () => dest.flushSync()
}

const app = Fastify({ ...(logger ? { loggerInstance: logger } : {}), ...(values['prod-logger'] ? { logController: new RequestLog() } : {}) })
if (values.headers) registerSecurityHeaders(app)
app.get('/', async () => body)

const stop = async (): Promise<void> => {
  await app.close()
  flush()
  process.exit(0)
}
process.once('SIGTERM', () => { void stop() })
process.once('SIGINT', () => { void stop() })
await app.listen({ port, host: '127.0.0.1' })
