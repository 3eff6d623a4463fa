#!/usr/bin/env node
// Entry shim for the fleet console: `node bin/clt-v8-console.js [--root DIR]` (compiled code lives in dist/).
import { run } from '../dist/console/main.js'
await run(process.argv.slice(2))
