/** `npm run bench [-- name…]`: run the benches, write bench/results/<name>.json, regenerate BENCHMARKS.md. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { machineInfo } from './lib/machine.js'
import { killAllSync, liveChildren, stopAll } from './lib/procs.js'
import { writeBenchmarksMd } from './lib/report.js'
import { readResults, writeResult, type BenchResult } from './lib/result.js'
import type { Draft, Suite } from './lib/suite.js'

/** Loaded one at a time: a product module that fails to load breaks only the bench that imports it. */
const SUITES: Array<{ name: string; load: () => Promise<Suite> }> = [
  { name: 'footprint', load: async () => (await import('./suites/footprint.js')).footprintSuite },
  { name: 'http', load: async () => (await import('./suites/http.js')).httpSuite },
  { name: 'reference', load: async () => (await import('./suites/reference.js')).referenceSuite },
  { name: 'token', load: async () => (await import('./suites/token.js')).tokenSuite },
  { name: 'batch', load: async () => (await import('./suites/batch.js')).batchSuite },
  { name: 'fleet', load: async () => (await import('./suites/fleet.js')).fleetSuite },
  { name: 'fleet100', load: async () => (await import('./suites/fleet100.js')).fleet100Suite },
]

const out = (s: string): void => { process.stdout.write(s + '\n') }

async function runSuite (suite: Suite, command: string): Promise<BenchResult> {
  const started = Date.now()
  const date = new Date().toISOString()
  const machine = machineInfo()
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `cltv8-bench-${suite.name}-`))
  const draft: Draft = { params: {}, figures: [], unavailable: [], notes: [], raw: {} }
  let error: string | undefined
  out(`\n== ${suite.name}: ${suite.title} (budget ${suite.budgetS} s)`)
  let timer: NodeJS.Timeout | undefined
  try {
    const budget = new Promise<never>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`over its time budget of ${suite.budgetS} s`)), suite.budgetS * 1000)
    })
    await Promise.race([suite.run({ log: (m) => out(`[${suite.name}] ${m}`), scratch }, draft), budget])
  } catch (err) {
    error = err instanceof Error ? err.message : String(err)
    out(`[${suite.name}] FAILED: ${error}`)
  } finally {
    clearTimeout(timer)
    await stopAll()
    fs.rmSync(scratch, { recursive: true, force: true })
  }
  const result: BenchResult = {
    name: suite.name,
    title: suite.title,
    command,
    date,
    duration_s: Math.round((Date.now() - started) / 100) / 10,
    machine,
    params: draft.params,
    figures: draft.figures,
    unavailable: draft.unavailable,
    notes: draft.notes,
    ...(error ? { error } : {}),
    raw: draft.raw,
  }
  return result
}

function summaryLine (r: BenchResult): string[] {
  return r.figures.map((f) => {
    const v = f.value === null ? 'n/a' : `${f.value} ${f.unit}`
    const t = f.target ? ` (target ${f.target.op} ${f.target.value} ${f.unit})` : ''
    const status = f.value === null ? 'NOT AVAILABLE' : f.met === null ? '' : f.met ? 'met' : 'MISSED'
    return `  ${r.name.padEnd(9)} ${f.label.padEnd(58)} ${v}${t} ${status}`
  })
}

async function main (argv: string[]): Promise<number> {
  const names = argv.filter((a) => !a.startsWith('-'))
  const unknown = names.filter((n) => !SUITES.some((s) => s.name === n))
  if (unknown.length > 0 || argv.includes('--help')) {
    out(`usage: npm run bench [-- ${SUITES.map((s) => s.name).join('|')} …]`)
    return unknown.length > 0 ? 2 : 0
  }
  const chosen = names.length === 0 ? SUITES : SUITES.filter((s) => names.includes(s.name))
  const command = names.length === 0 ? 'npm run bench' : `npm run bench -- ${chosen.map((s) => s.name).join(' ')}`
  const started = Date.now()
  const results: BenchResult[] = []
  const loadErrors: string[] = []
  for (const entry of chosen) {
    let suite: Suite
    try {
      suite = await entry.load()
    } catch (err) {
      // Nothing was measured: keep the previous result file (the evidence of the last real run) and say why.
      const error = `could not load the bench: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`
      out(`[${entry.name}] ${error}`)
      loadErrors.push(`${entry.name}: ${error}`)
      continue
    }
    const r = await runSuite(suite, command)
    out(`[${suite.name}] wrote ${path.relative(process.cwd(), writeResult(r))}`)
    results.push(r)
  }
  const md = writeBenchmarksMd(readResults())
  out(`\nRegenerated ${path.relative(process.cwd(), md)} (${Math.round((Date.now() - started) / 1000)} s in all)\n`)
  for (const r of results) {
    for (const line of summaryLine(r)) out(line)
    if (r.error) out(`  ${r.name.padEnd(9)} ERROR: ${r.error}`)
  }
  const left = liveChildren()
  if (left.length > 0) out(`warning: children still alive at exit (killing): ${left.join(', ')}`)
  for (const e of loadErrors) out(`  ERROR ${e}`)
  return results.some((r) => r.error) || loadErrors.length > 0 ? 1 : 0
}

process.on('exit', killAllSync)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    out(`\n${sig}: stopping every process this run started`)
    void stopAll().finally(() => process.exit(130))
  })
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    // autocannon or undici may keep sockets in their pools; everything of ours is already stopped.
    setTimeout(() => process.exit(code), 200).unref()
  },
  (err: unknown) => {
    out(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    process.exitCode = 1
  }
)
