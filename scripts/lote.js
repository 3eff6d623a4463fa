#!/usr/bin/env node
// Entry shim for `npm run lote -- <PORT> <file.csv|.xlsx>` (logic in src/cli/lote.ts).
import { runCommand } from '../dist/cli/run.js'
import { main } from '../dist/cli/lote.js'
await runCommand('lote', main)
