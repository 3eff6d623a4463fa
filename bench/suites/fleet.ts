/** Bench 4 — fleet: K tenants from the generated ecosystem under a private PM2: spawn-to-ready, idle RSS, reload under load. */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { writeEcosystem } from '../../src/cli/ecosystem.js'
import http from 'node:http'
import { agentGet, freePort, freshGet } from '../lib/net.js'
import { BENCH_SERVERS_DIR, REPO_DIR, TENANT_SCRIPT } from '../lib/paths.js'
import { privatePm2 } from '../lib/pm2.js'
import { stopChild } from '../lib/procs.js'
import { figure } from '../lib/result.js'
import { procMemory, procPssMb } from '../lib/rss.js'
import { median, round, sleep } from '../lib/stats.js'
import type { Suite } from '../lib/suite.js'
import { addBenchTenant, makeRoot, startTenant } from '../lib/tenant.js'

const K = 10
/** V8 shrinks a fresh process's start-up heap only after some quiet seconds, not all at once: RSS is read at both times, "idle" is the later. */
const EARLY_SAMPLE_MS = 10_000
const IDLE_SETTLE_MS = 25_000
const DIRECT_STARTS = 3

const exec = promisify(execFile)

/** Module loading of a tenant in a fresh process (bench/servers/import-times.ts), median of `n` runs. */
async function importTimes (n: number): Promise<{ total_ms: number; steps: Record<string, number> }> {
  const runs: Array<{ total_ms: number; steps: Record<string, number> }> = []
  for (let i = 0; i < n; i++) {
    const { stdout } = await exec(process.execPath, [path.join(BENCH_SERVERS_DIR, 'import-times.js')], { timeout: 30_000 })
    runs.push(JSON.parse(stdout) as { total_ms: number; steps: Record<string, number> })
  }
  runs.sort((a, b) => a.total_ms - b.total_ms)
  return runs[Math.floor(runs.length / 2)]!
}

/** Poll /health on fresh connections every few ms until 200; resolves the time it first answered. */
async function firstHealthy (port: number, deadline: number): Promise<number> {
  while (Date.now() < deadline) {
    if ((await freshGet(port, '/health', 1000)) === 200) return Date.now()
    await sleep(5)
  }
  throw new Error(`port ${port}: /health never answered 200`)
}

interface Tally {
  requests: number
  failed: number
  /** Distinct failure kinds (status or error code). */
  kinds: string[]
}

interface ReloadRun {
  ms: number
  fresh: Tally
  keepAlive: Tally
  replaced: number
}

/** Run `reload` while every tenant gets a fresh-connection loop and a keep-alive loop; count what failed, per kind of client. */
async function underLoad (ports: number[], reload: () => Promise<unknown>): Promise<ReloadRun> {
  const agent = new http.Agent({ keepAlive: true })
  const results = { fresh: [] as Array<number | string>, keepAlive: [] as Array<number | string> }
  let looping = true
  const loops = ports.flatMap((port) => [
    (async () => {
      // eslint-disable-next-line no-unmodified-loop-condition -- cleared by the other task while this one awaits
      while (looping) results.fresh.push(await freshGet(port, '/health', 5000))
    })(),
    (async () => {
      // eslint-disable-next-line no-unmodified-loop-condition -- cleared by the other task while this one awaits
      while (looping) results.keepAlive.push(await agentGet(agent, port, '/health', 5000))
    })(),
  ])
  await sleep(500)
  const t0 = Date.now()
  await reload()
  const ms = Date.now() - t0
  await sleep(1000)
  looping = false
  await Promise.all(loops)
  agent.destroy()
  const tally = (r: Array<number | string>): Tally => {
    const failed = r.filter((x) => x !== 200)
    return { requests: r.length, failed: failed.length, kinds: [...new Set(failed.map(String))] }
  }
  return { ms, fresh: tally(results.fresh), keepAlive: tally(results.keepAlive), replaced: 0 }
}

const describe = (r: ReloadRun): string =>
  `fresh ${r.fresh.requests} requests, ${r.fresh.failed} failed${r.fresh.kinds.length ? ` (${r.fresh.kinds.join(', ')})` : ''}; ` +
  `keep-alive ${r.keepAlive.requests} requests, ${r.keepAlive.failed} failed${r.keepAlive.kinds.length ? ` (${r.keepAlive.kinds.join(', ')})` : ''}`
const kinds = (t: Tally): string => (t.kinds.length ? `; failures: ${t.kinds.join(', ')}` : '')

export const fleetSuite: Suite = {
  name: 'fleet',
  title: `Fleet of ${K} tenants under a private PM2`,
  budgetS: 360,
  async run (ctx, draft) {
    draft.params = { tenants: K, idle_settle_ms: IDLE_SETTLE_MS, early_sample_ms: EARLY_SAMPLE_MS, direct_starts: DIRECT_STARTS, pm2_entry: 'generated ecosystem.config.cjs: cluster mode, 1 instance, wait_ready, pmx off' }
    const root = makeRoot(ctx.scratch)
    const ports: number[] = []
    for (let i = 0; i < K; i++) {
      const t = await addBenchTenant(root, { port: await freePort(), name: `Fleet ${i + 1}`, extra: { LOG_LEVEL: 'info' } })
      ports.push(t.port)
    }

    // 0. The same process started directly (no PM2), to tell PM2's share of the start time from the app's.
    const direct: number[] = []
    for (let i = 0; i < DIRECT_STARTS; i++) {
      const t0 = Date.now()
      const child = await startTenant(root, ports[0]!, 'direct-start')
      direct.push(Date.now() - t0)
      await stopChild(child)
    }
    ctx.log(`direct node spawn → /health (ms): ${direct.join(', ')}`)
    const imports = await importTimes(3)
    const heaviest = Object.entries(imports.steps).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${v}`).join(', ')
    ctx.log(`module loading: ${imports.total_ms} ms (${heaviest})`)

    const eco = writeEcosystem(root, REPO_DIR)
    ctx.log(`ecosystem with ${eco.ports.length} tenants written; starting a private PM2`)
    const pm = privatePm2()
    await pm.pm2(['ping']) // the daemon itself starts here, not inside the first tenant's figure

    // 1. One tenant at a time: `pm2 start ecosystem --only <name>` while polling its /health.
    const startRows: Array<{ port: number; spawn_to_ready_ms: number; cli_to_ready_ms: number; rss_at_ready_mb: number }> = []
    for (const port of ports) {
      const t0 = Date.now()
      const ready = firstHealthy(port, t0 + 20_000)
      await pm.pm2(['start', 'ecosystem.config.cjs', '--only', `clt-v8-api-${port}`], { cwd: root })
      const readyAt = await ready
      const proc = (await pm.jlist()).find((p) => p.name === `clt-v8-api-${port}`)
      if (!proc) throw new Error(`clt-v8-api-${port} is not in the PM2 list`)
      startRows.push({ port, spawn_to_ready_ms: readyAt - proc.pm2_env.pm_uptime, cli_to_ready_ms: readyAt - t0, rss_at_ready_mb: round(procMemory(proc.pid)?.rssMb ?? Number.NaN, 1) })
    }
    const lastStart = Date.now()
    const spawnMs = startRows.map((r) => r.spawn_to_ready_ms)
    ctx.log(`spawn-to-ready per tenant (ms): ${spawnMs.join(', ')}`)
    draft.figures.push(figure('spawn_to_ready_median_ms', 'spawn-to-ready per tenant, median (PM2 fork → /health 200)', median(spawnMs), 'ms', { op: '<', value: 500 },
      `max ${Math.max(...spawnMs)} ms; started one at a time`,
      `the app's own start: the same process started directly without PM2 takes ${median(direct)} ms, of which loading modules ${imports.total_ms} ms (${heaviest} ms); PM2's cluster fork adds the rest`))
    draft.figures.push(figure('module_load_ms', 'loading what a tenant loads at start in a fresh process (SQLite\'s addon, then dist/bundle/main.js; compile cache on)', imports.total_ms, 'ms', undefined,
      `median of 3; heaviest: ${heaviest} ms`))
    draft.figures.push(figure('direct_spawn_to_ready_median_ms', '`node bin/clt-v8-api.js` spawn → /health 200 without PM2, median', median(direct), 'ms'))
    draft.figures.push(figure('cli_to_ready_median_ms', '`pm2 start --only` command → /health 200, median', median(startRows.map((r) => r.cli_to_ready_ms)), 'ms', undefined,
      'includes booting the pm2 CLI itself (a Node process) for each command'))

    // 2. Idle memory once everything settled.
    await sleep(Math.max(0, lastStart + EARLY_SAMPLE_MS - Date.now()))
    const early = (await pm.jlist()).filter((p) => p.name.startsWith('clt-v8-api-')).map((p) => round(procMemory(p.pid)?.rssMb ?? Number.NaN, 1))
    await sleep(Math.max(0, lastStart + IDLE_SETTLE_MS - Date.now()))
    const list = await pm.jlist()
    const rss = list.filter((p) => p.name.startsWith('clt-v8-api-')).map((p) => ({ name: p.name, pid: p.pid, rss_mb: round(procMemory(p.pid)?.rssMb ?? p.monit.memory / 2 ** 20, 1), pss_mb: round(procPssMb(p.pid) ?? Number.NaN, 1) }))
    const rssValues = rss.map((r) => r.rss_mb)
    const daemonPid = pm.daemonPid()
    const daemonRss = daemonPid ? procMemory(daemonPid)?.rssMb : undefined
    ctx.log(`idle RSS per tenant (MB): ${rssValues.join(', ')}; PM2 daemon ${daemonRss?.toFixed(1)} MB`)
    draft.figures.push(figure('idle_rss_max_mb', 'idle RSS per tenant, highest of the fleet', round(Math.max(...rssValues), 1), 'MB', { op: '<', value: 90 },
      `median ${round(median(rssValues), 1)} MB (VmRSS from /proc, ${IDLE_SETTLE_MS / 1000} s after the last start); highest ${round(Math.max(...early), 1)} MB and median ${round(median(early), 1)} MB at ${EARLY_SAMPLE_MS / 1000} s; a median ${round(median(startRows.map((r) => r.rss_at_ready_mb)), 1)} MB right after the first 200`,
      `when V8 gets round to shrinking each process's start-up heap; of each RSS, the node binary and shared libraries are counted in full (PSS median ${round(median(rss.map((r) => r.pss_mb)), 1)} MB)`))
    draft.figures.push(figure('idle_rss_median_mb', 'idle RSS per tenant, median', round(median(rssValues), 1), 'MB'))
    draft.figures.push(figure('idle_pss_median_mb', 'idle PSS per tenant, median (shared pages split among processes)', round(median(rss.map((r) => r.pss_mb)), 1), 'MB', undefined,
      'RSS counts the node binary and shared libraries (~45 MB of clean shared pages) in full for every process; PSS divides them among the processes sharing them, so it is what each extra tenant adds'))
    draft.figures.push(figure('pm2_daemon_rss_mb', `PM2 daemon RSS with ${K} tenants`, daemonRss === undefined ? null : round(daemonRss, 1), 'MB'))

    // 3. Reloads of the whole fleet under load: per tenant, one client loop on fresh connections (curl) and one
    //    on kept-alive connections (http.Agent keepAlive, as fetch, axios or requests.Session do), both requesting
    //    /health as fast as answered. First the rolling `npm run tenant:reload` (one tenant at a time, each healthy
    //    before the next), then a plain `pm2 reload ecosystem.config.cjs` (PM2 replaces two at a time).
    const reloads: Record<string, ReloadRun> = {}
    for (const kind of ['rolling', 'plain'] as const) {
      const before = new Map((await pm.jlist()).map((p) => [p.name, p.pid]))
      const run = await underLoad(ports, async () => {
        if (kind === 'rolling') {
          try {
            await exec(process.execPath, [TENANT_SCRIPT, 'reload', '--root', root], { env: { ...process.env, PM2_HOME: pm.home }, timeout: 240_000 })
          } catch (err) {
            const e = err as { stdout?: string; stderr?: string; message: string }
            throw new Error(`npm run tenant:reload failed: ${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message)
          }
        } else await pm.pm2(['reload', 'ecosystem.config.cjs'], { cwd: root })
      })
      const after = await pm.jlist()
      run.replaced = after.filter((p) => before.has(p.name) && before.get(p.name) !== p.pid).length
      reloads[kind] = run
      ctx.log(`${kind} reload of ${K} tenants in ${run.ms} ms: ${describe(run)}; ${run.replaced}/${K} processes replaced`)
      if (run.replaced !== K) draft.notes.push(`${kind} reload: only ${run.replaced} of ${K} processes had a new pid afterwards.`)
    }
    draft.raw = { import_times: imports, direct_start_ms: direct, start: startRows, rss_at_10s: early, idle_rss: rss, reloads }
    const rolling = reloads['rolling']!
    const plain = reloads['plain']!
    const load = 'one fresh-connection loop and one keep-alive loop per tenant requesting /health as fast as answered'
    draft.figures.push(figure('rolling_reload_failed_fresh', `\`npm run tenant:reload\` (rolling) of ${K} tenants → failed requests, fresh connections`, rolling.fresh.failed, 'requests', { op: '==', value: 0 },
      `${rolling.fresh.requests} requests during a ${rolling.ms} ms rolling reload (${load}); ${rolling.replaced}/${K} replaced${kinds(rolling.fresh)}`))
    draft.figures.push(figure('rolling_reload_failed_keepalive', `\`npm run tenant:reload\` (rolling) of ${K} tenants → failed requests, kept-alive connections`, rolling.keepAlive.failed, 'requests', { op: '==', value: 0 },
      `${rolling.keepAlive.requests} requests on http.Agent keepAlive connections in the same run${kinds(rolling.keepAlive)}`))
    draft.figures.push(figure('rolling_reload_ms', `\`npm run tenant:reload\` of ${K} tenants under that load, wall time`, rolling.ms, 'ms', undefined,
      'one tenant at a time: start the new process, wait for its ready message, drain and stop the old one, then /health OK before the next'))
    draft.figures.push(figure('reload_failed_fresh', `\`pm2 reload ecosystem.config.cjs\` of ${K} tenants (all, two at a time) → failed requests, fresh connections`, plain.fresh.failed, 'requests', { op: '==', value: 0 },
      `${plain.fresh.requests} requests during a ${plain.ms} ms reload; ${plain.replaced}/${K} replaced${kinds(plain.fresh)}`))
    draft.figures.push(figure('reload_failed_keepalive', `\`pm2 reload ecosystem.config.cjs\` of ${K} tenants → failed requests, kept-alive connections`, plain.keepAlive.failed, 'requests', { op: '==', value: 0 },
      `${plain.keepAlive.requests} requests on http.Agent keepAlive connections in the same run${kinds(plain.keepAlive)}`))
    await pm.kill()
  },
}
