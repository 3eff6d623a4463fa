/**
 * A pino destination writing one log file with a bounded buffer, size and daily rotation, in this thread.
 *
 * The current file is `<dir>/<name>.log`; a rotation renames it to `<name>-<local time>.log` and reopens the name,
 * keeping the newest `keep` old files. Sizes are counted as lines are accepted (not from disk), so the bound holds
 * in a burst: a file ends within one buffer of `maxBytes`. When the disk is slower than the lines arrive, the
 * buffer stops at `bufferBytes` and further lines are dropped and counted (reportDrops() writes the count into the
 * file itself), so logging can never grow the heap without bound. Files are created with `fileMode`.
 */
import fs from 'node:fs'
import path from 'node:path'
import { BoundedLines } from './bounded-lines.js'

export interface RotatingFileOptions {
  dir: string
  /** File stem: `out` → out.log, out-2026-06-15T12-00-00.000.log … */
  name: string
  /** Rotate when the current file would pass this many bytes. */
  maxBytes: number
  /** Old files kept besides the current one. */
  keep: number
  /** Bytes of lines waiting for the disk before new lines are dropped. */
  bufferBytes: number
  fileMode: number
  /** Fields every drop-report line carries (the logger's base: port, tenant, pid). */
  base?: Record<string, unknown>
  now?: () => number
}

/** Local time as a sortable file-name part: 2026-06-15T12-00-00.123. */
function stamp (ms: number): string {
  const d = new Date(ms)
  const p = (n: number, w = 2): string => String(n).padStart(w, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
}

const dayOf = (ms: number): string => stamp(ms).slice(0, 10)

export class RotatingFile extends BoundedLines {
  readonly file: string
  readonly #opts: Required<Omit<RotatingFileOptions, 'base'>> & { base: Record<string, unknown> }
  #bytes: number
  /** True until the first open and during each reopen after a rotation: no further rotation meanwhile. */
  #reopening = true
  readonly #opened: Promise<void>
  #dayTimer: NodeJS.Timeout | undefined
  #closed = false
  readonly #rotated: RegExp

  constructor (opts: RotatingFileOptions) {
    const o = { now: Date.now, base: {}, ...opts }
    const file = path.join(opts.dir, `${opts.name}.log`)
    // A file left from an earlier day starts this run rotated out (renamed before sonic-boom opens the name).
    const existing = RotatingFile.#leftOver(file, o.now())
    if (existing?.stale) RotatingFile.#renameTo(opts.dir, opts.name, file, existing.mtimeMs)
    super({ dest: file, sync: false, append: true, mkdir: true, mode: opts.fileMode, maxLength: opts.bufferBytes })
    this.#opts = o
    this.file = file
    // Ours (name-<stamp>.log) and the numbered files of the earlier rotation (name.<n>.log).
    this.#rotated = new RegExp(`^${opts.name}(?:-[\\dT.-]+|\\.\\d+)\\.log$`)
    this.#bytes = existing && !existing.stale ? existing.size : 0
    this.sonic.on('ready', () => {
      this.#reopening = false
      try {
        fs.chmodSync(this.file, opts.fileMode) // a file that existed before keeps its old mode otherwise
      } catch {
        // renamed away meanwhile: the next open fixes it
      }
    })
    this.#opened = new Promise<void>((resolve) => {
      this.sonic.once('ready', () => resolve())
      this.sonic.once('error', () => resolve())
    })
    this.#scheduleDay()
    this.#prune()
  }

  /** The current file from an earlier run, if any, and whether it is from an earlier day. */
  static #leftOver (file: string, now: number): { size: number; mtimeMs: number; stale: boolean } | undefined {
    try {
      const st = fs.statSync(file)
      return { size: st.size, mtimeMs: st.mtimeMs, stale: st.size > 0 && dayOf(st.mtimeMs) !== dayOf(now) }
    } catch {
      return undefined
    }
  }

  /** pino calls this with one serialized line. Returns false when the caller should slow down (never blocks). */
  write (line: string): boolean {
    if (this.#closed) return false
    if (this.#bytes + line.length > this.#opts.maxBytes && this.#bytes > 0) this.rotate()
    const { bytes, ok } = this.offer(line)
    this.#bytes += bytes
    return ok
  }

  /** Start a new current file now (size or day). Skipped while the previous rotation's reopen is under way. */
  rotate (): void {
    if (this.#reopening || this.#closed) return
    if (!RotatingFile.#renameTo(this.#opts.dir, this.#opts.name, this.file, this.#opts.now())) return
    this.#reopening = true
    this.#bytes = 0
    this.counts.rotations++
    this.sonic.reopen()
    this.#prune()
  }

  /** Write into the file how many lines were dropped since the last such line (nothing when none were). */
  reportDrops (): void {
    if (this.#closed) return
    const line = this.writeDropReport(this.#opts.base, this.#opts.now(), 'the disk')
    if (line !== undefined) this.#bytes += line.length
  }

  /** Resolves once the file is first open (or failed to open). */
  opened (): Promise<void> {
    return this.#opened
  }

  /** Flush, report drops, flush and close. */
  async close (): Promise<void> {
    if (this.#closed) return
    await this.#opened
    // sonic-boom never finishes an end() that overtakes a pending reopen: let the rotation's reopen land first.
    if (this.#reopening) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000)
        this.sonic.once('ready', () => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    this.flushSync()
    this.reportDrops()
    this.#closed = true
    clearTimeout(this.#dayTimer)
    this.flushSync()
    await new Promise<void>((resolve) => {
      this.sonic.once('close', () => resolve())
      this.sonic.end()
    })
  }

  /** Rename the current file to its rotated name (stamped with `at`); false when there is nothing to rename. */
  static #renameTo (dir: string, name: string, file: string, at: number): boolean {
    let target = path.join(dir, `${name}-${stamp(at)}.log`)
    for (let n = 1; fs.existsSync(target); n++) target = path.join(dir, `${name}-${stamp(at)}-${n}.log`)
    try {
      fs.renameSync(file, target)
      return true
    } catch {
      return false
    }
  }

  /** Delete rotated files beyond the newest `keep`. */
  #prune (): void {
    let names: string[]
    try {
      names = fs.readdirSync(this.#opts.dir).filter((n) => this.#rotated.test(n))
    } catch {
      return
    }
    const byAge = names
      .map((n) => {
        try {
          return { n, t: fs.statSync(path.join(this.#opts.dir, n)).mtimeMs }
        } catch {
          return { n, t: 0 }
        }
      })
      .sort((a, b) => b.t - a.t || b.n.localeCompare(a.n))
    for (const { n } of byAge.slice(this.#opts.keep)) fs.rmSync(path.join(this.#opts.dir, n), { force: true })
  }

  /** Rotate at the next local midnight (when the file has anything in it), then again every day. */
  #scheduleDay (): void {
    const now = this.#opts.now()
    const d = new Date(now)
    const next = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime()
    this.#dayTimer = setTimeout(() => {
      if (this.#bytes > 0) this.rotate()
      this.#scheduleDay()
    }, Math.max(1000, next - now + 50))
    this.#dayTimer.unref()
  }
}
