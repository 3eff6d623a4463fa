/** What a bench writes to bench/results/<name>.json: machine, command, raw rounds, medians, figures vs targets. */
import fs from 'node:fs'
import path from 'node:path'
import type { MachineInfo } from './machine.js'
import { RESULTS_DIR } from './paths.js'

export type Op = '>=' | '<=' | '<' | '>' | '=='

export interface Target {
  op: Op
  value: number
}

export interface Figure {
  id: string
  label: string
  /** null when the piece it needs is not available yet (see `note`). */
  value: number | null
  unit: string
  target?: Target
  /** true/false against the target; null when there is no value or no target. */
  met: boolean | null
  /** How it was measured, the raw numbers behind it, or why it is not available. */
  note?: string
  /** One sentence: what limits this figure (shown beside missed and tight targets). */
  limit?: string
}

export interface BenchResult {
  name: string
  title: string
  command: string
  date: string
  duration_s: number
  machine: MachineInfo
  /** Settings of the run (rounds, durations, L, C, K …). */
  params: Record<string, unknown>
  figures: Figure[]
  /** Pieces of the product this bench could not exercise yet. */
  unavailable: string[]
  /** Free-text observations the runner made (limits, caveats). */
  notes: string[]
  /** Set when the bench itself failed; figures are then partial. */
  error?: string
  raw: Record<string, unknown>
}

export function meets (value: number, t: Target): boolean {
  switch (t.op) {
    case '>=':
      return value >= t.value
    case '<=':
      return value <= t.value
    case '<':
      return value < t.value
    case '>':
      return value > t.value
    case '==':
      return value === t.value
  }
}

export function figure (id: string, label: string, value: number | null, unit: string, target?: Target, note?: string, limit?: string): Figure {
  const ok = value !== null && Number.isFinite(value)
  return {
    id,
    label,
    value: ok ? value : null,
    unit,
    ...(target ? { target } : {}),
    met: ok && target ? meets(value, target) : null,
    ...(note ? { note } : {}),
    ...(limit ? { limit } : {}),
  }
}

export function unavailableFigure (id: string, label: string, unit: string, reason: string, target?: Target): Figure {
  return { id, label, value: null, unit, ...(target ? { target } : {}), met: null, note: `not available yet: ${reason}` }
}

export function writeResult (r: BenchResult): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true })
  const file = path.join(RESULTS_DIR, `${r.name}.json`)
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(r, null, 2) + '\n')
  fs.renameSync(tmp, file)
  return file
}

export function readResults (): BenchResult[] {
  if (!fs.existsSync(RESULTS_DIR)) return []
  return fs
    .readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, f), 'utf8')) as BenchResult)
}
