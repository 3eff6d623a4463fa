/** A process seen through /proc: memory (VmRSS now, VmHWM peak, in MB) and CPU time used. */
import fs from 'node:fs'

export interface ProcMemory {
  rssMb: number
  peakMb: number
}

export function procMemory (pid: number): ProcMemory | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN)
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 }
  } catch {
    return undefined
  }
}

/** Proportional set size (shared pages divided among the processes sharing them), MB; what one more process really costs. */
export function procPssMb (pid: number): number | undefined {
  try {
    const kb = Number(/^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1])
    return Number.isFinite(kb) ? kb / 1024 : undefined
  } catch {
    return undefined
  }
}

/** Sample a process's memory every `everyMs` until stopped; returns the highest VmHWM/VmRSS seen. */
export function sampleMemory (pid: number, everyMs = 200): { stop(): { peakMb: number; lastRssMb: number; samples: number } } {
  let peak = 0
  let last = Number.NaN
  let samples = 0
  const take = (): void => {
    const m = procMemory(pid)
    if (!m) return
    samples++
    last = m.rssMb
    peak = Math.max(peak, m.peakMb, m.rssMb)
  }
  take()
  const timer = setInterval(take, everyMs)
  return {
    stop () {
      take()
      clearInterval(timer)
      return { peakMb: peak, lastRssMb: last, samples }
    },
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export function cpuSeconds (pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the whole line.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(rest[11]) + Number(rest[12])) / 100
  } catch {
    return undefined
  }
}
