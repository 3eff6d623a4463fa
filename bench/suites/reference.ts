/** Bench 5 — reference: the same health and cache-read loads on the older design (Express 4 + JSON file cache) and on a tenant. */
import fs from 'node:fs'
import path from 'node:path'
import { pairedRatio, runRounds, summarize, type LoadTarget } from '../lib/load.js'
import { freePort, waitReady } from '../lib/net.js'
import { BENCH_SERVERS_DIR } from '../lib/paths.js'
import { startChild } from '../lib/procs.js'
import { figure, unavailableFigure } from '../lib/result.js'
import type { Suite } from '../lib/suite.js'
import { addBenchTenant, makeRoot, startTenant } from '../lib/tenant.js'
import { withCheckDigits } from '../../src/domain/cpf.js'
import { LOAD, startBareFastify } from './http.js'
import { prepareCacheRead, sampleSimulation } from './http-probes.js'

const CACHE_ENTRIES = 300

/** A valid CPF from a 9-digit stem (two mod-11 check digits). */
export function cpfFrom (stem: number): string {
  return withCheckDigits(String(stem).padStart(9, '0'))
}

/** cache-simulacoes.json as the older system kept it: one object keyed by CPF, every saved simulation in it. */
function writeJsonCache (file: string, n: number): string[] {
  const cache: Record<string, unknown> = {}
  const cpfs: string[] = []
  for (let i = 0; i < n; i++) {
    const cpf = cpfFrom(123_456_000 + i * 7)
    cpfs.push(cpf)
    cache[cpf] = { ...sampleSimulation(cpf, i), timestamp: new Date(Date.now() - i * 60_000).toISOString() }
  }
  fs.writeFileSync(file, JSON.stringify(cache, null, 2))
  return cpfs
}

export const referenceSuite: Suite = {
  name: 'reference',
  title: 'Reference: the older design (Express 4 + JSON file cache) under the same loads',
  budgetS: 240,
  async run (ctx, draft) {
    const root = makeRoot(ctx.scratch)
    const logsDir = path.join(root, 'logs')
    const cacheFile = path.join(root, 'cache-simulacoes.json')
    const cpfs = writeJsonCache(cacheFile, CACHE_ENTRIES)
    const probeCpf = cpfs[Math.floor(cpfs.length / 2)]!
    draft.params = { ...LOAD, json_cache_entries: CACHE_ENTRIES, json_cache_kb: Math.round(fs.statSync(cacheFile).size / 1024) }

    const expressPort = await freePort()
    const express = startChild('reference-express', process.execPath, [
      path.join(BENCH_SERVERS_DIR, 'reference-express.js'), '--port', String(expressPort), '--cache', cacheFile, '--log', path.join(logsDir, 'reference-express.log'),
    ], { logFile: path.join(logsDir, 'reference-express.stray.log') })
    await waitReady(expressPort, '/health', { child: express })
    const bare = await startBareFastify(logsDir)
    const tenant = await addBenchTenant(root, { extra: { RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'info' } })
    await startTenant(root, tenant.port)
    const base = `http://127.0.0.1:${tenant.port}`
    const exp = `http://127.0.0.1:${expressPort}`

    const targets: LoadTarget[] = [
      { id: 'bare', label: 'bare fastify GET / (baseline)', url: bare.url },
      { id: 'tenant_health', label: 'clt-v8 tenant GET /health', url: `${base}/health` },
      { id: 'express_health', label: 'older design GET /health', url: `${exp}/health` },
      { id: 'express_cache', label: `older design GET /cache/simulacao/:cpf (JSON file, ${CACHE_ENTRIES} entries)`, url: `${exp}/cache/simulacao/${probeCpf}` },
    ]
    const cache = await prepareCacheRead(base, tenant.auth, probeCpf)
    if (cache.ok) targets.splice(2, 0, { id: 'tenant_cache', label: 'clt-v8 tenant GET /cache/simulacao/:cpf (auth, SQLite)', url: `${base}${cache.path}`, headers: tenant.auth })
    else draft.unavailable.push(`tenant cache read (${cache.reason})`)

    const samples = await runRounds(targets, LOAD, ctx.log)
    const summary = summarize(targets, samples)
    draft.raw = { summary, samples }
    const rps = (id: string): number => summary.find((x) => x.id === id)!.median_rps
    draft.figures.push(figure('bare_rps', 'bare fastify hello-world req/s (baseline)', rps('bare'), 'req/s'))
    draft.figures.push(figure('tenant_health_ratio', 'clt-v8 GET /health req/s ÷ bare', pairedRatio(samples, 'tenant_health', 'bare').median, '×'))
    draft.figures.push(figure('express_health_ratio', 'older design GET /health req/s ÷ bare', pairedRatio(samples, 'express_health', 'bare').median, '×'))
    draft.figures.push(figure('health_vs_older', 'clt-v8 /health req/s ÷ older design /health', pairedRatio(samples, 'tenant_health', 'express_health').median, '×', undefined,
      'the tenant\'s /health also checks the database, the token and the batch counts; the older one answered from memory'))
    draft.figures.push(figure('express_cache_ratio', 'older design cache read req/s ÷ bare', pairedRatio(samples, 'express_cache', 'bare').median, '×', undefined,
      `re-reads and parses a ${draft.params['json_cache_kb']} KB JSON file per request; grows linearly with the number of cached simulations`))
    if (cache.ok) {
      draft.figures.push(figure('tenant_cache_ratio', 'clt-v8 cache read req/s ÷ bare', pairedRatio(samples, 'tenant_cache', 'bare').median, '×'))
      draft.figures.push(figure('cache_vs_older', 'clt-v8 cache read req/s ÷ older design cache read', pairedRatio(samples, 'tenant_cache', 'express_cache').median, '×', undefined,
        'one indexed SQLite row per request vs the whole JSON file; the gap widens as the cache grows'))
    } else {
      draft.figures.push(unavailableFigure('cache_vs_older', 'clt-v8 cache read req/s ÷ older design cache read', '×', cache.reason))
    }
    const bad = summary.filter((x) => x.non2xx > 0 || x.errors > 0)
    if (bad.length > 0) draft.notes.push(`Non-2xx or errors during load (not counted in req/s): ${bad.map((x) => `${x.id} non2xx=${x.non2xx} errors=${x.errors}`).join('; ')}.`)
  },
}
