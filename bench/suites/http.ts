/** Bench — HTTP overhead: a tenant process's routes vs a bare fastify hello-world (no logger, tenant heap flags), same run. */
import path from 'node:path'
import { TENANT_NODE_ARGS } from '../../src/config/lifecycle.js'
import { pairedRatio, runRounds, summarize, type LoadTarget } from '../lib/load.js'
import { freePort, waitReady } from '../lib/net.js'
import { BENCH_SERVERS_DIR } from '../lib/paths.js'
import { startChild } from '../lib/procs.js'
import { figure, unavailableFigure } from '../lib/result.js'
import { procMemory } from '../lib/rss.js'
import { round } from '../lib/stats.js'
import { startSandboxProcess } from '../lib/sandbox.js'
import type { Suite } from '../lib/suite.js'
import { addBenchTenant, makeRoot, startTenant } from '../lib/tenant.js'
import { prepareCacheRead, prepareSimularCache } from './http-probes.js'

export const LOAD = { rounds: 5, seconds: 3, connections: 10, warmupSeconds: 1 }

/** The baseline of every ratio (issue 16): fastify 5 hello-world, no logger, under the tenant's heap flags. */
export async function startBareFastify (logsDir: string): Promise<{ url: string; port: number; pid: number }> {
  const port = await freePort()
  const child = startChild('bare-plain', process.execPath, [...TENANT_NODE_ARGS, path.join(BENCH_SERVERS_DIR, 'bare-plain.js'), '--port', String(port)], {
    logFile: path.join(logsDir, 'bare-plain.stray.log'),
  })
  await waitReady(port, '/', { child })
  return { url: `http://127.0.0.1:${port}/`, port, pid: child.pid }
}

/** Diagnostic: the same hello-world with fastify's default request logging to a file (bench/servers/bare-fastify.ts). */
async function startBareLogged (logsDir: string): Promise<{ url: string; port: number; pid: number }> {
  const port = await freePort()
  const child = startChild('bare-fastify', process.execPath, [...TENANT_NODE_ARGS, path.join(BENCH_SERVERS_DIR, 'bare-fastify.js'), '--port', String(port), '--log', path.join(logsDir, 'bare-fastify.log')], {
    logFile: path.join(logsDir, 'bare-fastify.stray.log'),
  })
  await waitReady(port, '/', { child })
  return { url: `http://127.0.0.1:${port}/`, port, pid: child.pid }
}

/** The hello-world with production layers switched on (bench/servers/layers.ts). */
async function startLayers (logsDir: string, flags: string[]): Promise<{ url: string; port: number; pid: number }> {
  const port = await freePort()
  const child = startChild(`layers${flags.join('')}`, process.execPath, [...TENANT_NODE_ARGS, path.join(BENCH_SERVERS_DIR, 'layers.js'), '--port', String(port), '--logs', logsDir, ...flags], {
    logFile: path.join(logsDir, `layers${flags.join('')}.stray.log`),
  })
  await waitReady(port, '/', { child })
  return { url: `http://127.0.0.1:${port}/`, port, pid: child.pid }
}

export const httpSuite: Suite = {
  name: 'http',
  title: 'HTTP overhead of a tenant vs bare fastify',
  budgetS: 240,
  async run (ctx, draft) {
    draft.params = { ...LOAD, pipelining: 1, tenant_settings: 'RATE_LIMIT_PER_MINUTE=0 V8_MAX_RPS=1000 LOG_LEVEL=info LOG_TARGET=files' }
    const root = makeRoot(ctx.scratch)
    const logsDir = path.join(root, 'logs')
    const sandbox = await startSandboxProcess(logsDir)
    await sandbox.configure({ consult_delay_ms: 0 })
    const tenant = await addBenchTenant(root, {
      sandboxUrl: sandbox.url,
      // The default 600/min per client would turn a load test into a 429 test.
      extra: { RATE_LIMIT_PER_MINUTE: '0', V8_MAX_RPS: '1000', LOG_LEVEL: 'info' },
    })
    const bare = await startBareFastify(logsDir)
    const bareLogged = await startBareLogged(logsDir)
    const withLogger = await startLayers(logsDir, ['--prod-logger'])
    const withHeaders = await startLayers(logsDir, ['--prod-logger', '--headers'])
    const tenantChild = await startTenant(root, tenant.port)
    const base = `http://127.0.0.1:${tenant.port}`
    // What a healthy /health answers besides fastify's work: the security headers and its body, and no log line.
    const healthBytes = Buffer.byteLength(await (await fetch(`${base}/health`)).text())
    const headersBody = await startLayers(logsDir, ['--no-logger', '--headers', '--body-bytes', String(healthBytes)])
    ctx.log(`bare fastify :${bare.port}, tenant :${tenant.port}, sandbox :${sandbox.port}`)

    const targets: LoadTarget[] = [
      { id: 'bare', label: 'bare fastify GET / (baseline, no logger)', url: bare.url, pid: bare.pid },
      { id: 'health', label: 'tenant GET /health', url: `${base}/health`, pid: tenantChild.pid },
      // Diagnostics: where the gap between bare and the tenant's routes goes.
      { id: 'bare_logged', label: 'hello-world + fastify default request logging', url: bareLogged.url, pid: bareLogged.pid },
      { id: 'bare_prodlog', label: 'hello-world + tenant logger', url: withLogger.url, pid: withLogger.pid },
      { id: 'bare_prodlog_headers', label: 'hello-world + tenant logger + security headers', url: withHeaders.url, pid: withHeaders.pid },
      { id: 'bare_headers_body', label: `hello-world + security headers + a ${healthBytes}-byte body like /health's (no logger)`, url: headersBody.url, pid: headersBody.pid },
    ]
    const cache = await prepareCacheRead(base, tenant.auth)
    if (cache.ok) targets.push({ id: 'cache_read', label: 'tenant GET /cache/simulacao/:cpf (auth, SQLite)', url: `${base}${cache.path}`, headers: tenant.auth, pid: tenantChild.pid })
    else draft.unavailable.push(`cache read (${cache.reason})`)
    const sim = await prepareSimularCache(base, tenant.auth, sandbox, ctx.log)
    if (sim.ok) targets.push({ id: 'simular_cache', label: 'tenant POST /clt/simular-cache (auth, sandbox)', url: `${base}/clt/simular-cache`, method: 'POST', headers: { ...tenant.auth, 'content-type': 'application/json' }, body: sim.body })
    else draft.unavailable.push(`simular-cache (${sim.reason})`)

    const callsBefore = await sandbox.upstreamCalls()
    const samples = await runRounds(targets, LOAD, ctx.log)
    const upstreamCalls = (await sandbox.upstreamCalls()) - callsBefore
    const summary = summarize(targets, samples)
    draft.raw = { summary, samples, upstream_calls_during_load: upstreamCalls }
    const s = (id: string) => summary.find((x) => x.id === id)
    const bareRps = s('bare')!.median_rps
    draft.figures.push(figure('bare_rps', 'bare fastify hello-world req/s (baseline)', bareRps, 'req/s'))

    const health = pairedRatio(samples, 'health', 'bare')
    const logged = pairedRatio(samples, 'bare_logged', 'bare').median
    const logOnly = pairedRatio(samples, 'bare_prodlog', 'bare').median
    const logHeaders = pairedRatio(samples, 'bare_prodlog_headers', 'bare').median
    const headersBodyRatio = pairedRatio(samples, 'bare_headers_body', 'bare').median
    draft.figures.push(figure('health_ratio', 'GET /health req/s ÷ bare', health.median, '×', { op: '>=', value: 0.85 },
      `${s('health')!.median_rps} req/s; per round ${health.perRound.join(', ')}`,
      `a hello-world answering the same security headers and a ${healthBytes}-byte body, with no logger and no hooks, reaches ${headersBodyRatio}×; the rest is the tenant's hooks (drain tracking, request counter, request logger); /health logs nothing when healthy and reuses its database reading for 1 s`))
    draft.figures.push(figure('layer_headers_body_ratio', 'hello-world + security headers + /health-sized body req/s ÷ bare (diagnostic)', headersBodyRatio, '×', undefined,
      'the ceiling for a healthy /health: its headers (src/http/security-headers.ts) and its body size, without the tenant\'s logger, hooks or reads'))
    draft.figures.push(figure('bare_logged_ratio', 'hello-world + fastify default request logging req/s ÷ bare (diagnostic)', logged, '×', undefined,
      'fastify\'s own two info lines per request through pino to a file: what any logging costs before the tenant\'s redaction and masking'))
    draft.figures.push(figure('layer_logger_ratio', 'hello-world + tenant logger req/s ÷ bare (diagnostic)', logOnly, '×', undefined,
      'createLogger and the request line as in production: one line per request through a pino multistream to two rotated files, redact paths, CPF masking and secret scrubbing on every line'))
    draft.figures.push(figure('layer_logger_headers_ratio', 'hello-world + tenant logger + security headers req/s ÷ bare (diagnostic)', logHeaders, '×', undefined,
      'the ceiling for any logged tenant route: the logger above plus the security headers rendered once (src/http/security-headers.ts)'))

    if (cache.ok) {
      const r = pairedRatio(samples, 'cache_read', 'bare')
      draft.figures.push(figure('cache_read_ratio', 'GET /cache/simulacao/:cpf req/s ÷ bare', r.median, '×', { op: '>=', value: 0.6 },
        `${s('cache_read')!.median_rps} req/s; per round ${r.perRound.join(', ')}`,
        `under the logger + headers ceiling (${logHeaders}×): its own log line, the API-key check, a SQLite read with two JSON parses, a response ~4× the hello-world's (serialized by fast-json-stringify)`))
    } else {
      draft.figures.push(unavailableFigure('cache_read_ratio', 'GET /cache/simulacao/:cpf req/s ÷ bare', '×', cache.reason, { op: '>=', value: 0.6 }))
    }
    if (sim.ok) {
      const r = pairedRatio(samples, 'simular_cache', 'bare')
      const simRps = s('simular_cache')!.median_rps
      const perReq = upstreamCalls / Math.max(1, samples.filter((x) => x.target === 'simular_cache').reduce((a, x) => a + x.requests, 0))
      draft.figures.push(figure('simular_cache_ratio', 'POST /clt/simular-cache req/s ÷ bare', r.median, '×', undefined,
        `${simRps} req/s; every request makes ~${perReq.toFixed(2)} upstream call(s) to the sandbox process on the same 2 cores, so this measures the round trip, not the tenant alone`))
      if (simRps > 900) draft.notes.push(`simular-cache reached ${simRps} req/s, near the tenant's V8_MAX_RPS=1000 pacing: the limiter may be what caps it.`)
    } else {
      draft.figures.push(unavailableFigure('simular_cache_ratio', 'POST /clt/simular-cache req/s ÷ bare', '×', sim.reason))
    }
    // CPU per request of each server (all its threads, from /proc): what the server itself spends, which the load
    // generator sharing the 2 cores does not blur as it blurs req/s.
    const cpu = (id: string): number | null => s(id)?.median_cpu_us_per_req ?? null
    const bareCpu = cpu('bare')
    for (const [id, label] of [['bare', 'bare fastify hello-world'], ['health', 'tenant GET /health'], ['bare_headers_body', 'hello-world + security headers + /health-sized body'], ['bare_prodlog', 'hello-world + tenant logger'], ['cache_read', 'tenant GET /cache/simulacao/:cpf']] as const) {
      const v = cpu(id)
      if (v === null) continue
      draft.figures.push(figure(`cpu_us_${id}`, `server CPU per request, ${label} (diagnostic)`, v, 'µs', undefined,
        id === 'bare' ? 'user + system time of the server process over a round ÷ requests answered, median over rounds' : bareCpu ? `${round(v / bareCpu, 2)}× the bare hello-world's` : undefined))
    }
    const mem = procMemory(tenantChild.pid)
    draft.figures.push(figure('tenant_peak_rss_mb', 'tenant peak RSS after this load (VmHWM)', mem ? round(mem.peakMb, 1) : null, 'MB', undefined,
      'no batch, no upstream work beyond simular-cache: what V8 grows the heap to under sustained request load'))
    const bad = summary.filter((x) => x.non2xx > 0 || x.errors > 0)
    if (bad.length > 0) draft.notes.push(`Non-2xx or errors during load (not counted in req/s): ${bad.map((x) => `${x.id} non2xx=${x.non2xx} errors=${x.errors}`).join('; ')}.`)
    draft.notes.push('The load generator (autocannon, one thread) runs on the same 2 cores as the servers; every target pays that equally, which is why only same-round ratios are compared.')
  },
}
