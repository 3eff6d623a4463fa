#!/usr/bin/env node
// Entry shim for `npm run console:key`: the fleet console's admin key (logic in src/cli/console.ts).
import { runCommand } from '../dist/cli/run.js'
import { main } from '../dist/cli/console.js'
await runCommand('console', (argv) => main(argv))
