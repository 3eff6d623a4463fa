#!/usr/bin/env node
// Entry shim for the simulated upstream (V8 Digital, Kentro, PresençaBank) on loopback.
import { run } from '../dist/sandbox/main.js'
await run(process.argv.slice(2))
