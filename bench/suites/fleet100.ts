/**
 * Bench — 100 tenants under a private PM2 (issue 16): all healthy, and what the fleet costs when idle: total PSS
 * (/proc/<pid>/smaps_rollup) and CPU of the tenants plus the PM2 daemon.
 */
import { writeEcosystem } from '../../src/cli/ecosystem.js'
import { freePort, freshGet } from '../lib/net.js'
import { REPO_DIR } from '../lib/paths.js'
import { privatePm2 } from '../lib/pm2.js'
import { figure } from '../lib/result.js'
import { cpuSeconds, procMemory, procPssMb } from '../lib/rss.js'
import { median, round, sleep } from '../lib/stats.js'
import type { Suite } from '../lib/suite.js'
import { addBenchTenant, makeRoot } from '../lib/tenant.js'

const K = 100
/** Quiet time after the last tenant answered, before memory and CPU are read. */
const SETTLE_MS = 20_000
/** Window over which idle CPU is measured. */
const CPU_WINDOW_MS = 20_000

/** Poll every port's /health until each has answered 200 once; returns the ports still not healthy at the deadline. */
async function waitAllHealthy (ports: number[], deadline: number): Promise<number[]> {
  let pending = [...ports]
  while (pending.length > 0 && Date.now() < deadline) {
    const answers = await Promise.all(pending.map(async (p) => ({ p, s: await freshGet(p, '/health', 2000) })))
    pending = answers.filter((a) => a.s !== 200).map((a) => a.p)
    if (pending.length > 0) await sleep(500)
  }
  return pending
}

export const fleet100Suite: Suite = {
  name: 'fleet100',
  title: `${K} tenants under a private PM2: health, total PSS and idle CPU`,
  budgetS: 900,
  async run (ctx, draft) {
    draft.params = { tenants: K, settle_ms: SETTLE_MS, cpu_window_ms: CPU_WINDOW_MS, pm2_entry: 'generated ecosystem.config.cjs (cluster mode, 1 instance, wait_ready, pmx off), `pm2 start` of all at once' }
    const root = makeRoot(ctx.scratch)
    const ports: number[] = []
    for (let i = 0; i < K; i++) {
      let port = await freePort()
      while (ports.includes(port)) port = await freePort()
      ports.push((await addBenchTenant(root, { port, name: `Fleet ${i + 1}` })).port)
    }
    ctx.log(`${K} tenants created`)
    writeEcosystem(root, REPO_DIR)
    const pm = privatePm2()
    await pm.pm2(['ping'])
    const t0 = Date.now()
    try {
      // The CLI waits for every app's ready signal; on a busy machine a hundred starts take minutes.
      await pm.pm2(['start', 'ecosystem.config.cjs'], { cwd: root, timeoutMs: 300_000 })
    } catch (err) {
      // The apps may still come up: health below is what counts.
      draft.notes.push(`\`pm2 start\` itself ended with an error: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`)
    }
    ctx.log(`\`pm2 start\` returned after ${Date.now() - t0} ms`)
    const unhealthy = await waitAllHealthy(ports, Date.now() + 300_000)
    const allUpMs = Date.now() - t0
    ctx.log(`${K - unhealthy.length}/${K} tenants answered /health 200, ${allUpMs} ms after \`pm2 start\``)
    await sleep(SETTLE_MS)

    const procs = (await pm.jlist()).filter((p) => p.name.startsWith('clt-v8-api-'))
    const pids = procs.map((p) => p.pid).filter((pid) => pid > 0)
    const daemonPid = pm.daemonPid()
    const all = daemonPid ? [...pids, daemonPid] : pids
    const cpu0 = all.map((pid) => cpuSeconds(pid) ?? Number.NaN)
    const w0 = Date.now()
    await sleep(CPU_WINDOW_MS)
    const cpu1 = all.map((pid) => cpuSeconds(pid) ?? Number.NaN)
    const windowS = (Date.now() - w0) / 1000
    const cpuDelta = cpu1.map((c, i) => c - cpu0[i]!)
    const tenantCpu = cpuDelta.slice(0, pids.length).reduce((a, b) => a + b, 0)
    const daemonCpu = daemonPid ? cpuDelta[cpuDelta.length - 1]! : 0
    const pss = pids.map((pid) => procPssMb(pid) ?? Number.NaN)
    const rss = pids.map((pid) => procMemory(pid)?.rssMb ?? Number.NaN)
    const daemonPss = daemonPid ? procPssMb(daemonPid) ?? Number.NaN : Number.NaN
    const stillHealthy = K - (await waitAllHealthy(ports, Date.now() + 10_000)).length
    const restarts = procs.reduce((a, p) => a + p.pm2_env.restart_time, 0)
    const online = procs.filter((p) => p.pm2_env.status === 'online').length
    const totalPssMb = pss.reduce((a, b) => a + b, 0) + (Number.isFinite(daemonPss) ? daemonPss : 0)
    const idleCpuPct = ((tenantCpu + daemonCpu) / windowS) * 100
    ctx.log(`PSS tenants ${round(totalPssMb - daemonPss, 0)} MB + daemon ${round(daemonPss, 1)} MB; idle CPU ${round(idleCpuPct, 2)} % of one core (tenants ${round(tenantCpu, 2)} s, daemon ${round(daemonCpu, 2)} s over ${round(windowS, 1)} s)`)
    await pm.kill()

    draft.raw = { all_up_ms: allUpMs, unhealthy, online, restarts, pss_mb: pss.map((x) => round(x, 1)), rss_mb: rss.map((x) => round(x, 1)), daemon_pss_mb: round(daemonPss, 1), cpu_s: cpuDelta.map((x) => round(x, 2)), window_s: round(windowS, 1) }
    draft.figures.push(figure('healthy', `tenants answering /health 200 (of ${K})`, stillHealthy, 'tenants', { op: '==', value: K },
      `${K - unhealthy.length} answered within ${round(allUpMs / 1000, 1)} s of \`pm2 start\` (all at once on 2 cores); ${online} online in PM2, ${restarts} restarts`))
    draft.figures.push(figure('total_pss_mb', `total PSS of ${K} idle tenants + PM2 daemon`, round(totalPssMb, 0), 'MB', { op: '<=', value: 4096 },
      `per tenant median ${round(median(pss), 1)} MB PSS (${round(median(rss), 1)} MB RSS, which counts the shared node binary in full); daemon ${round(daemonPss, 1)} MB; read ${SETTLE_MS / 1000} s after all were healthy`,
      'each tenant\'s own heap and code (V8 heap, compiled code, SQLite page cache); the node binary and libraries are shared and split among the processes'))
    draft.figures.push(figure('idle_cpu_pct', `idle CPU of ${K} tenants + PM2 daemon, % of one core`, round(idleCpuPct, 2), '%', { op: '<=', value: 10 },
      `over ${round(windowS, 1)} s with no requests: tenants ${round(tenantCpu, 2)} s, daemon ${round(daemonCpu, 2)} s of CPU; busiest tenant ${round(Math.max(...cpuDelta.slice(0, pids.length)), 2)} s`,
      'each tenant\'s timers (batch, V8 event and callback workers polling SQLite, log drop reports) and the PM2 daemon\'s own monitoring'))
  },
}
