#!/usr/bin/env node
// Entry shim for one tenant process: `node bin/clt-v8-api.js --port 6000` (compiled code lives in dist/).
import { run } from '../dist/main.js'
await run(process.argv.slice(2))
