/** Memory of a process from /proc/<pid>/status: resident now (VmRSS) and its peak (VmHWM), in MB. */
import fs from 'node:fs'

export interface ProcMemory {
  rssMb: number
  peakMb: number
}

export function procMemory(pid: number): ProcMemory | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN)
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 }
  } catch {
    return undefined
  }
}

/** Sample a process's memory every `everyMs` until stopped; returns the highest VmHWM/VmRSS seen. */
export function sampleMemory(pid: number, everyMs = 200): { stop(): { peakMb: number; lastRssMb: number; samples: number } } {
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
    stop() {
      take()
      clearInterval(timer)
      return { peakMb: peak, lastRssMb: last, samples }
    },
  }
}
