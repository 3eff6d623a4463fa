/**
 * Timestamped copies of a config file kept before each rewrite (`config-6000.env.bak-2026-11-29T12-50-01.123Z`):
 * several, so a second save (the integrations after the login) never overwrites the copy the first one kept.
 */
import fs from 'node:fs'
import path from 'node:path'
import { writeNewFile } from './durable.js'

/** How many previous versions of a config file are kept; older ones are deleted. */
export const CONFIG_BACKUPS_KEPT = 10

const stamp = (at: Date): string => at.toISOString().replace(/:/g, '-')

/** The kept copies of `file`, newest first. */
export function listBackups (file: string): string[] {
  const dir = path.dirname(file)
  const prefix = `${path.basename(file)}.bak-`
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return []
  }
  // ISO timestamps sort by time; the optional -N suffix orders copies made in the same millisecond.
  return names.filter((n) => n.startsWith(prefix)).sort().reverse().map((n) => path.join(dir, n))
}

/** Copy `file` (mode `mode` from its first byte: it holds secrets) to a new timestamped name, then drop the oldest beyond `keep`. */
export function keepBackup (file: string, mode = 0o600, keep = CONFIG_BACKUPS_KEPT, now = new Date()): string {
  const content = fs.readFileSync(file)
  const base = `${file}.bak-${stamp(now)}`
  let target = base
  for (let n = 1; ; n++) {
    try {
      writeNewFile(target, content, mode)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      target = `${base}-${n}`
    }
  }
  for (const old of listBackups(file).slice(keep)) fs.rmSync(old, { force: true })
  return target
}
