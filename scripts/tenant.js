#!/usr/bin/env node
// Entry shim for the operator's tenant commands: `npm run tenant:add 6000` = `node scripts/tenant.js add 6000` (logic in src/cli/).
import { runCommand } from '../dist/cli/run.js'
import { main } from '../dist/cli/tenant.js'
await runCommand('tenant', main)
