/**
 * Baseline of the HTTP bench: bare fastify 5 hello-world, default request logging (two info lines per request)
 * through pino to a file with the same writer settings as a tenant's log files (async SonicBoom, minLength 0).
 * No helmet, no auth, no database, no redaction or CPF masking. `node bare-fastify.js --port P --log FILE`.
 */
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import { pino } from 'pino'

const { values } = parseArgs({ options: { port: { type: 'string' }, log: { type: 'string' } } })
if (!values.port || !values.log) throw new Error('usage: bare-fastify --port P --log FILE')

const dest = pino.destination({ dest: values.log, sync: false, minLength: 0, mkdir: true })
const logger = pino({ level: 'info' }, dest)
const app = Fastify({ loggerInstance: logger })

app.get('/', async () => ({ hello: 'world' }))

const stop = async (): Promise<void> => {
  await app.close()
  dest.flushSync()
  process.exit(0)
}
process.once('SIGTERM', () => { void stop() })
process.once('SIGINT', () => { void stop() })

await app.listen({ port: Number(values.port), host: '127.0.0.1' })
