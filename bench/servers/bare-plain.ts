/**
 * The footprint baseline (issue 16): a bare fastify 5 hello-world with no logger at all, run with the tenant's
 * heap flags. What a tenant process is compared against for start-up, idle memory and req/s. `node bare-plain.js --port P`.
 */
import { parseArgs } from 'node:util'
import Fastify from 'fastify'

const { values } = parseArgs({ options: { port: { type: 'string' } } })
if (!values.port) throw new Error('usage: bare-plain --port P')

const app = Fastify()
app.get('/', async () => ({ hello: 'world' }))

const stop = async (): Promise<void> => {
  await app.close()
  process.exit(0)
}
process.once('SIGTERM', () => { void stop() })
process.once('SIGINT', () => { void stop() })

await app.listen({ port: Number(values.port), host: '127.0.0.1' })
