#!/usr/bin/env node
// Entry shim for `npm run demo`: the sandbox and a demo tenant under PM2 (logic in src/cli/demo.ts).
import { runCommand } from '../dist/cli/run.js'
import { main } from '../dist/cli/demo.js'
await runCommand('demo', main)
