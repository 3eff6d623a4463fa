/**
 * A sonic-boom destination that never grows without bound: lines beyond its buffer are dropped and counted, and a
 * line saying how many is written once the destination keeps up again. The rotating files and stdout share it.
 *
 * Lines are handed over as Buffers (sonic-boom's `contentMode: 'buffer'`). In its default string mode sonic-boom
 * appends each line to the pending string and measures that string's UTF-8 length again on every write, which
 * flattens it: while a write is in flight under load, each new line copied up to 16 KB, and the request line cost
 * a logged route ~10 µs and much of its garbage. A Buffer per line (from Node's pool) is appended to a list instead.
 */
import sonicBoom from 'sonic-boom'

/** sonic-boom is CommonJS: its class is a property of the default export (the named import has no runtime value). */
const { SonicBoom } = sonicBoom
type Sonic = InstanceType<typeof SonicBoom>
type SonicOptions = ConstructorParameters<typeof SonicBoom>[0]

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
    this.sonic = new SonicBoom({ ...opts, contentMode: 'buffer' })
    this.sonic.on('drop', () => {
      this.counts.dropped++
      this.#droppedNow = true
    })
    this.sonic.on('error', () => { this.counts.errors++ })
  }

  /** Hand one line to sonic-boom: its size in bytes when accepted (0 when dropped), and the backpressure answer. */
  protected offer (line: string): { bytes: number; ok: boolean } {
    const data = Buffer.from(line)
    this.#droppedNow = false
    // contentMode buffer takes Buffers; its typings only name the string form.
    const ok = this.sonic.write(data as unknown as string)
    if (this.#droppedNow) return { bytes: 0, ok }
    this.counts.written++
    return { bytes: data.length, ok }
  }

  /**
   * Write one line saying how many lines were dropped since the last such line (nothing when none were). If the
   * buffer is still full the report is dropped too and the count carries over. Returns the line when it was written.
   */
  protected writeDropReport (fields: Record<string, unknown>, at: number, where: string): Buffer | undefined {
    const pending = this.counts.dropped - this.counts.droppedReported
    if (pending <= 0) return undefined
    const total = this.counts.dropped
    const line = Buffer.from(JSON.stringify({ level: 40, time: new Date(at).toISOString(), ...fields, dropped: pending, droppedTotal: total, msg: `${pending} log lines dropped (${where} could not keep up)` }) + '\n')
    this.#droppedNow = false
    this.sonic.write(line as unknown as string)
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
