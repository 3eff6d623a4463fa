#!/usr/bin/env node
// Entry shim for one tenant process: `node bin/clt-v8-api.js --port 6000`. The code is dist/bundle/main.js, one
// bundled file made by `npm run build` (scripts/bundle.mjs). Node's compile cache (in node_modules/.cache, or where
// NODE_COMPILE_CACHE says) spares later starts most of the compile work; a folder that cannot be written (a read-only
// image) only means no cache.
import module from 'node:module'
import { fileURLToPath } from 'node:url'

module.enableCompileCache?.(fileURLToPath(new URL('../node_modules/.cache/clt-v8-compile', import.meta.url)))
const { run } = await import('../dist/bundle/main.js')
await run(process.argv.slice(2))
