/**
 * A sonic-boom destination that never grows without bound: lines beyond its buffer are dropped and counted, and a
 * line saying how many is written once the destination keeps up again. The rotating files and stdout share it.
 */
import sonicBoom from 'sonic-boom'

/** sonic-boom is CommonJS: its class is a property of the default export (the named import has no runtime value). */
const { SonicBoom } = sonicBoom
export type Sonic = InstanceType<typeof SonicBoom>
export type SonicOptions = ConstructorParameters<typeof SonicBoom>[0]

export interface LineStats {
  /** Lines accepted for writing since start. */
  written: number
  /** Lines dropped because the buffer was full, since start. */
  dropped: number
  /** Of those, how many a report line written to the destination already accounts for. */
  droppedReported: number
  rotations: number
  /** Write errors (disk full, file gone); the stream keeps going. */
  errors: number
}

export class BoundedLines {
  protected readonly sonic: Sonic
  protected readonly counts: LineStats = { written: 0, dropped: 0, droppedReported: 0, rotations: 0, errors: 0 }
  #droppedNow = false

  constructor (opts: SonicOptions) {
    this.sonic = new SonicBoom(opts)
    this.sonic.on('drop', () => {
      this.counts.dropped++
      this.#droppedNow = true
    })
    this.sonic.on('error', () => { this.counts.errors++ })
  }

  /** Hand one line to sonic-boom: whether it was accepted (not dropped), and its backpressure answer. */
  protected offer (line: string): { accepted: boolean; ok: boolean } {
    this.#droppedNow = false
    const ok = this.sonic.write(line)
    if (this.#droppedNow) return { accepted: false, ok }
    this.counts.written++
    return { accepted: true, ok }
  }

  /**
   * Write one line saying how many lines were dropped since the last such line (nothing when none were). If the
   * buffer is still full the report is dropped too and the count carries over. Returns the line when it was written.
   */
  protected writeDropReport (fields: Record<string, unknown>, at: number, where: string): string | undefined {
    const pending = this.counts.dropped - this.counts.droppedReported
    if (pending <= 0) return undefined
    const total = this.counts.dropped
    const line = JSON.stringify({ level: 40, time: new Date(at).toISOString(), ...fields, dropped: pending, droppedTotal: total, msg: `${pending} log lines dropped (${where} could not keep up)` }) + '\n'
    this.#droppedNow = false
    this.sonic.write(line)
    if (this.#droppedNow) return undefined
    this.counts.droppedReported = total
    return line
  }

  stats (): LineStats {
    return { ...this.counts }
  }

  flushSync (): void {
    try {
      this.sonic.flushSync()
    } catch {
      // not open yet, or closed: nothing buffered to lose
    }
  }
}
