/**
 * How long a fresh Node process takes to load a tenant's code: each heavy dependency in turn (the time a package
 * adds on top of what was already loaded), then dist/main.js itself. Prints one JSON line. `node import-times.js`.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { REPO_DIR } from '../lib/paths.js'

const PACKAGES = ['undici', 'fastify', 'pino', 'sonic-boom', 'pino-pretty', 'zod', 'fastify-type-provider-zod', 'helmet', '@fastify/rate-limit', '@fastify/swagger', '@fastify/swagger-ui', 'better-sqlite3', 'lru-cache']

const steps: Record<string, number> = {}
const t0 = performance.now()
for (const p of PACKAGES) {
  const t = performance.now()
  await import(p)
  steps[p] = Math.round((performance.now() - t) * 10) / 10
}
const t = performance.now()
await import(pathToFileURL(path.join(REPO_DIR, 'dist', 'main.js')).href)
steps['dist/main.js (the rest)'] = Math.round((performance.now() - t) * 10) / 10
process.stdout.write(JSON.stringify({ total_ms: Math.round(performance.now() - t0), steps }) + '\n')
