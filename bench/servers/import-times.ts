/**
 * How long a fresh Node process takes to load what a tenant loads at start, as bin/clt-v8-api.js loads it: Node's
 * compile cache on (the same folder), then SQLite's native addon (outside the bundle), then the bundled tenant
 * (dist/bundle/main.js: every package and module it imports at start; what loads on first use is not counted).
 * Prints one JSON line. `node import-times.js`.
 */
import module from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { REPO_DIR } from '../lib/paths.js'

module.enableCompileCache?.(path.join(REPO_DIR, 'node_modules', '.cache', 'clt-v8-compile'))

const STEPS: Array<[string, string]> = [
  ['better-sqlite3 (native addon)', 'better-sqlite3'],
  ['dist/bundle/main.js (the rest)', pathToFileURL(path.join(REPO_DIR, 'dist', 'bundle', 'main.js')).href],
]

const steps: Record<string, number> = {}
const t0 = performance.now()
for (const [name, specifier] of STEPS) {
  const t = performance.now()
  await import(specifier)
  steps[name] = Math.round((performance.now() - t) * 10) / 10
}
process.stdout.write(JSON.stringify({ total_ms: Math.round(performance.now() - t0), steps }) + '\n')
