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
import sonicBoom from 'sonic-boom'

/** sonic-boom is CommonJS: its class is a property of the default export (the named import has no runtime value). */
const { SonicBoom } = sonicBoom
type Sonic = InstanceType<typeof SonicBoom>

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

export interface RotatingFileStats {
  /** Lines accepted for writing since start. */
  written: number
  /** Lines dropped because the buffer was full, since start. */
  dropped: number
  /** Of those, how many a report line written to the file already accounts for. */
  droppedReported: number
  rotations: number
  /** Write errors (disk full, file gone); the stream keeps going. */
  errors: number
}

/** Local time as a sortable file-name part: 2026-06-15T12-00-00.123. */
function stamp (ms: number): string {
  const d = new Date(ms)
  const p = (n: number, w = 2): string => String(n).padStart(w, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
}

const dayOf = (ms: number): string => stamp(ms).slice(0, 10)

export class RotatingFile {
  readonly file: string
  readonly #opts: Required<Omit<RotatingFileOptions, 'base'>> & { base: Record<string, unknown> }
  readonly #sonic: Sonic
  #bytes: number
  /** True until the first open and during each reopen after a rotation: no further rotation meanwhile. */
  #reopening = true
  readonly #opened: Promise<void>
  #droppedNow = false
  #dayTimer: NodeJS.Timeout | undefined
  #closed = false
  readonly #stats: RotatingFileStats = { written: 0, dropped: 0, droppedReported: 0, rotations: 0, errors: 0 }
  readonly #rotated: RegExp

  constructor (opts: RotatingFileOptions) {
    this.#opts = { now: Date.now, base: {}, ...opts }
    this.file = path.join(opts.dir, `${opts.name}.log`)
    // Ours (name-<stamp>.log) and the numbered files of the earlier rotation (name.<n>.log).
    this.#rotated = new RegExp(`^${opts.name}(?:-[\\dT.-]+|\\.\\d+)\\.log$`)
    let existing: fs.Stats | undefined
    try {
      existing = fs.statSync(this.file)
    } catch {
      existing = undefined
    }
    // A file left from an earlier day starts this run rotated out.
    if (existing && existing.size > 0 && dayOf(existing.mtimeMs) !== dayOf(this.#opts.now())) {
      this.#renameCurrent(existing.mtimeMs)
      existing = undefined
    }
    this.#bytes = existing?.size ?? 0
    this.#sonic = new SonicBoom({ dest: this.file, sync: false, append: true, mkdir: true, mode: opts.fileMode, maxLength: opts.bufferBytes })
    this.#sonic.on('drop', () => {
      this.#stats.dropped++
      this.#droppedNow = true
    })
    this.#sonic.on('ready', () => {
      this.#reopening = false
      try {
        fs.chmodSync(this.file, opts.fileMode) // a file that existed before keeps its old mode otherwise
      } catch {
        // renamed away meanwhile: the next open fixes it
      }
    })
    this.#sonic.on('error', () => { this.#stats.errors++ })
    this.#opened = new Promise<void>((resolve) => {
      this.#sonic.once('ready', () => resolve())
      this.#sonic.once('error', () => resolve())
    })
    this.#scheduleDay()
    this.#prune()
  }

  /** pino calls this with one serialized line. Returns false when the caller should slow down (never blocks). */
  write (line: string): boolean {
    if (this.#closed) return false
    if (this.#bytes + line.length > this.#opts.maxBytes && this.#bytes > 0) this.rotate()
    this.#droppedNow = false
    const ok = this.#sonic.write(line)
    if (!this.#droppedNow) {
      this.#bytes += line.length
      this.#stats.written++
    }
    return ok
  }

  /** Start a new current file now (size or day). Skipped while the previous rotation's reopen is under way. */
  rotate (): void {
    if (this.#reopening || this.#closed) return
    if (!this.#renameCurrent(this.#opts.now())) return
    this.#reopening = true
    this.#bytes = 0
    this.#stats.rotations++
    this.#sonic.reopen()
    this.#prune()
  }

  /**
   * Write one line saying how many lines were dropped since the last such line (nothing when none were).
   * If the buffer is still full the report is dropped too and the count carries over to the next report.
   */
  reportDrops (): void {
    const pending = this.#stats.dropped - this.#stats.droppedReported
    if (pending <= 0 || this.#closed) return
    const line = JSON.stringify({
      level: 40,
      time: new Date(this.#opts.now()).toISOString(),
      ...this.#opts.base,
      dropped: pending,
      droppedTotal: this.#stats.dropped,
      msg: `${pending} log lines dropped (the disk could not keep up)`,
    }) + '\n'
    const reportedBefore = this.#stats.dropped
    this.#droppedNow = false
    this.#sonic.write(line)
    if (!this.#droppedNow) {
      this.#bytes += line.length
      this.#stats.droppedReported = reportedBefore
    }
  }

  stats (): RotatingFileStats {
    return { ...this.#stats }
  }

  flushSync (): void {
    try {
      this.#sonic.flushSync()
    } catch {
      // not open yet, or closed: nothing buffered to lose
    }
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
        this.#sonic.once('ready', () => {
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
      this.#sonic.once('close', () => resolve())
      this.#sonic.end()
    })
  }

  /** Rename the current file to its rotated name; false when there is nothing to rename. */
  #renameCurrent (at: number): boolean {
    let target = path.join(this.#opts.dir, `${this.#opts.name}-${stamp(at)}.log`)
    for (let n = 1; fs.existsSync(target); n++) target = path.join(this.#opts.dir, `${this.#opts.name}-${stamp(at)}-${n}.log`)
    try {
      fs.renameSync(this.file, target)
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
