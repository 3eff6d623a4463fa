/**
 * Reference for the bench: what the older system (one Express server per port) did for these two routes.
 * Express 4; one console-style line per request appended to a log file (what PM2 captured from stdout);
 * GET /health answers from memory; GET /cache/simulacao/:cpf reads and parses the whole JSON file cache
 * (cache-simulacoes.json) from disk on every request, as the older cache-simulacoes.js did. No API key.
 * `node reference-express.js --port P --cache FILE --log FILE`.
 */
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import express from 'express'

const { values } = parseArgs({ options: { port: { type: 'string' }, cache: { type: 'string' }, log: { type: 'string' } } })
if (!values.port || !values.cache || !values.log) throw new Error('usage: reference-express --port P --cache FILE --log FILE')
const cacheFile = values.cache
const log = fs.createWriteStream(values.log, { flags: 'a' })
const startedAt = Date.now()

const app = express()
app.use(express.json())
app.use((req, _res, next) => {
  log.write(`${new Date().toISOString()} ${req.method} ${req.url}\n`)
  next()
})

app.get('/health', (_req, res) => {
  res.json({ status: 'OK', timestamp: new Date().toISOString(), uptime: Math.round((Date.now() - startedAt) / 1000), environment: 'production' })
})

app.get('/cache/simulacao/:cpf', (req, res) => {
  const cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as Record<string, unknown>
  const entry = cache[req.params.cpf.replace(/\D/g, '')]
  if (!entry) {
    res.status(404).json({ success: false, message: 'Simulação não encontrada no cache' })
    return
  }
  res.json({ success: true, data: entry })
})

const server = app.listen(Number(values.port), '127.0.0.1')
const stop = (): void => {
  server.close(() => log.end(() => process.exit(0)))
  server.closeAllConnections()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
