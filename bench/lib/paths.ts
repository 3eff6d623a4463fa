/** Where the bench finds the project (bin/, node_modules/) and writes its results, compiled or not. */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The folder holding this project's package.json (walks up: this file runs from bench/lib or dist-bench/bench/lib). */
function findRepoDir (): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = path.join(dir, 'package.json')
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'clt-v8') return dir
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('bench: cannot find the clt-v8 package.json above ' + fileURLToPath(import.meta.url))
    dir = parent
  }
}

export const REPO_DIR = findRepoDir()
export const RESULTS_DIR = path.join(REPO_DIR, 'bench', 'results')
export const BENCHMARKS_MD = path.join(REPO_DIR, 'BENCHMARKS.md')
export const TENANT_BIN = path.join(REPO_DIR, 'bin', 'clt-v8-api.js')
export const SANDBOX_BIN = path.join(REPO_DIR, 'bin', 'clt-v8-sandbox.js')
export const PM2_BIN = path.join(REPO_DIR, 'node_modules', 'pm2', 'bin', 'pm2')
/** The operator's tenant commands (`npm run tenant:reload` = `node scripts/tenant.js reload`). */
export const TENANT_SCRIPT = path.join(REPO_DIR, 'scripts', 'tenant.js')
/** Compiled bench helpers (servers, probes) run as separate processes from here. */
export const BENCH_SERVERS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'servers')
