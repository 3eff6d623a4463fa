/**
 * Bench — footprint of one tenant against a bare fastify 5 hello-world (no logger), both under the tenant's heap
 * flags, measured side by side in the same run: spawn → first 200, and idle RSS/PSS 8 s after that first 200.
 */
import path from 'node:path'
import { TENANT_NODE_ARGS } from '../../src/config/lifecycle.js'
import { freePort, freshGet } from '../lib/net.js'
import { BENCH_SERVERS_DIR, TENANT_BIN } from '../lib/paths.js'
import { logTail, startChild, stopChild, type Child } from '../lib/procs.js'
import { figure } from '../lib/result.js'
import { procMemory, procPssMb } from '../lib/rss.js'
import { median, round, sleep } from '../lib/stats.js'
import type { Suite } from '../lib/suite.js'
import { addBenchTenant, makeRoot } from '../lib/tenant.js'

export const FOOTPRINT = { rounds: 5, idleMs: 8000, pollMs: 5 }

interface Started {
  child: Child
  /** ms from spawn() to the first 200 on a fresh connection. */
  readyMs: number
  readyAt: number
}

/** Spawn a server and poll `urlPath` on fresh connections every few ms until it answers 200. */
async function spawnUntilReady (name: string, args: string[], port: number, urlPath: string, opts: { cwd?: string; logFile: string }): Promise<Started> {
  const { PORT: _ignored, ...env } = process.env
  const t0 = performance.now()
  const child = startChild(name, process.execPath, [...TENANT_NODE_ARGS, ...args], { env, logFile: opts.logFile, ...(opts.cwd ? { cwd: opts.cwd } : {}) })
  const end = t0 + 20_000
  while (performance.now() < end) {
    if (child.hasExited()) throw new Error(`${name} exited before answering:\n${logTail(child)}`)
    if ((await freshGet(port, urlPath, 1000)) === 200) {
      const readyAt = performance.now()
      return { child, readyMs: readyAt - t0, readyAt }
    }
    await sleep(FOOTPRINT.pollMs)
  }
  throw new Error(`${name} did not answer ${urlPath} within 20 s:\n${logTail(child)}`)
}

/** Memory of a process `idleMs` after its first 200 (it stays untouched meanwhile). */
async function idleMemory (s: Started): Promise<{ rss_mb: number; pss_mb: number }> {
  await sleep(Math.max(0, s.readyAt + FOOTPRINT.idleMs - performance.now()))
  return { rss_mb: round(procMemory(s.child.pid)?.rssMb ?? Number.NaN, 1), pss_mb: round(procPssMb(s.child.pid) ?? Number.NaN, 1) }
}

export const footprintSuite: Suite = {
  name: 'footprint',
  title: 'One tenant vs a bare fastify hello-world: start-up and idle memory',
  budgetS: 240,
  async run (ctx, draft) {
    draft.params = { ...FOOTPRINT, node_args: TENANT_NODE_ARGS.join(' '), baseline: 'bench/servers/bare-plain.ts (fastify 5, no logger)', tenant_settings: 'tenant add defaults, LOG_TARGET=files' }
    const root = makeRoot(ctx.scratch)
    const logsDir = path.join(root, 'logs')
    const tenant = await addBenchTenant(root, { name: 'Footprint' })
    const rows: Array<{ round: number; bare_ready_ms: number; tenant_ready_ms: number; ratio: number; bare_rss_mb: number; tenant_rss_mb: number; rss_delta_mb: number; bare_pss_mb: number; tenant_pss_mb: number }> = []
    for (let r = 1; r <= FOOTPRINT.rounds; r++) {
      const barePort = await freePort()
      const startBare = (): Promise<Started> => spawnUntilReady('bare-plain', [path.join(BENCH_SERVERS_DIR, 'bare-plain.js'), '--port', String(barePort)], barePort, '/', { logFile: path.join(logsDir, 'bare-plain.stray.log') })
      const startOne = (): Promise<Started> => spawnUntilReady('footprint-tenant', [TENANT_BIN, '--port', String(tenant.port), '--root', root], tenant.port, '/health', { cwd: root, logFile: path.join(logsDir, 'tenant.stray.log') })
      // One after the other (never overlapping), alternating which goes first.
      const bare = r % 2 === 1 ? await startBare() : undefined
      const one = await startOne()
      const bareStarted = bare ?? (await startBare())
      const [bareMem, tenantMem] = await Promise.all([idleMemory(bareStarted), idleMemory(one)])
      await Promise.all([stopChild(bareStarted.child), stopChild(one.child)])
      const row = {
        round: r,
        bare_ready_ms: round(bareStarted.readyMs, 1),
        tenant_ready_ms: round(one.readyMs, 1),
        ratio: round(one.readyMs / bareStarted.readyMs, 3),
        bare_rss_mb: bareMem.rss_mb,
        tenant_rss_mb: tenantMem.rss_mb,
        rss_delta_mb: round(tenantMem.rss_mb - bareMem.rss_mb, 1),
        bare_pss_mb: bareMem.pss_mb,
        tenant_pss_mb: tenantMem.pss_mb,
      }
      rows.push(row)
      ctx.log(`round ${r}: spawn→ready bare ${row.bare_ready_ms} ms, tenant ${row.tenant_ready_ms} ms (${row.ratio}×); idle RSS bare ${row.bare_rss_mb} MB, tenant ${row.tenant_rss_mb} MB (+${row.rss_delta_mb})`)
    }
    draft.raw = { rounds: rows }
    const m = (k: keyof (typeof rows)[number]): number => round(median(rows.map((x) => x[k])), 3)
    draft.figures.push(figure('bare_ready_ms', 'bare fastify spawn → first 200, median (baseline)', round(m('bare_ready_ms'), 1), 'ms'))
    draft.figures.push(figure('spawn_ready_ratio', 'tenant spawn → /health 200 ÷ bare spawn → first 200', m('ratio'), '×', { op: '<=', value: 1.6 },
      `tenant ${round(m('tenant_ready_ms'), 1)} ms; per round ${rows.map((x) => x.ratio).join(', ')}`,
      `${round(m('tenant_ready_ms') - m('bare_ready_ms'), 0)} ms of what a tenant does beyond fastify at start, from one bundled file with a warm compile cache: loading SQLite's native addon, zod and every route schema built at import, reading and checking its config file, opening SQLite and checking migrations, opening the log files, the background workers' first reads`))
    draft.figures.push(figure('idle_rss_delta_mb', 'tenant idle RSS − bare idle RSS, 8 s after the first 200', m('rss_delta_mb'), 'MB', { op: '<=', value: 12 },
      `tenant ${m('tenant_rss_mb')} MB vs bare ${m('bare_rss_mb')} MB; per round ${rows.map((x) => x.rss_delta_mb).join(', ')}`,
      'the code and heap of what a tenant loads beyond fastify (zod and the route schemas, pino and its two log files, SQLite and its page cache); the first start, before the compile cache exists, is ~10 MB higher'))
    draft.figures.push(figure('idle_pss_delta_mb', 'tenant idle PSS − bare idle PSS (diagnostic)', round(m('tenant_pss_mb') - m('bare_pss_mb'), 1), 'MB', undefined,
      `tenant ${m('tenant_pss_mb')} MB vs bare ${m('bare_pss_mb')} MB`))
  },
}
