#!/usr/bin/env node
// Entry shim for `npm run tenant:k8s`: Kubernetes manifests from tenants/ (logic in src/cli/k8s.ts).
import { runCommand } from '../dist/cli/run.js'
import { main } from '../dist/cli/k8s.js'
await runCommand('tenant:k8s', (argv) => main(argv, { out: (s) => { process.stdout.write(s) }, err: (s) => { process.stderr.write(s) } }))
