/** What the numbers were measured on: CPU count and model, memory, Node version, load when the run began. */
import os from 'node:os'

export interface MachineInfo {
  cpus: number
  model: string
  mem_gb: number
  node: string
  platform: string
  kernel: string
  loadavg_at_start: number[]
}

export function machineInfo (): MachineInfo {
  const cpus = os.cpus()
  return {
    cpus: cpus.length,
    model: cpus[0]?.model.trim() ?? 'unknown',
    mem_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
    kernel: os.release(),
    loadavg_at_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }
}
