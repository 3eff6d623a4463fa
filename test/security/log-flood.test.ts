/**
 * Finding 2 (unauthenticated long-URL flood): 40 connections for 10 s sending 15 KB URLs to a 404, no key, against a
 * real tenant with the production heap flags. The tenant must stay up with RSS under the pod limit, its request lines
 * must be bounded, and size rotation must hold during the burst (small files here, so it rotates many times).
 */
import fs from 'node:fs'
import path from 'node:path'
import autocannon from 'autocannon'
import t from 'tap'
import { URL_LOG_MAX } from '../../src/http/request-log.js'
import { call, closeAgents, logLines, NEEDS_BUILD, startSecuredTenant } from '../fixtures/security.js'

t.teardown(closeAgents)

/** The Kubernetes pod limit (256 Mi); PM2 restarts at 300 MB. */
const RSS_LIMIT_MB = 256
const MAX_FILE_MB = 2
const KEEP = 3

t.test('40 connections × 10 s × 15 KB URLs to a 404 without a key: the tenant lives, RSS stays bounded, rotation holds', { skip: NEEDS_BUILD }, async (t) => {
  // No per-client limit: the worst case, every request reaches the router and the request log.
  const tenant = await startSecuredTenant(t, { config: { RATE_LIMIT_PER_MINUTE: '0', LOG_MAX_FILE_MB: String(MAX_FILE_MB), LOG_KEEP_FILES: String(KEEP) } })
  const longPath = `/nao-existe/${'a'.repeat(15_000)}`
  let peakSampled = 0
  const sampler = setInterval(() => { peakSampled = Math.max(peakSampled, tenant.rssMb() ?? 0) }, 200)
  const result = await autocannon({ url: `http://127.0.0.1:${tenant.port}${longPath}`, connections: 40, duration: 10, timeout: 10 })
  clearInterval(sampler)
  const peak = tenant.peakRssMb()
  t.comment(`flood: ${result.requests.total} requests (${Math.round(result.requests.average)}/s), ${result.non2xx} non-2xx, ${result.errors} errors; RSS peak ${peak} MB (sampled max ${peakSampled} MB)`)
  t.ok(tenant.alive(), `the tenant is still running (stderr: ${tenant.stderr().slice(-300)})`)
  t.ok(result.requests.total > 200, 'the flood really ran') // on a busy shared machine it may be slow; it still ran
  t.ok(peak !== null && peak < RSS_LIMIT_MB, `peak RSS ${peak} MB stays under ${RSS_LIMIT_MB} MB`)
  t.equal((await call(tenant, 'GET', '/health', { key: null })).status, 200, 'still healthy after the flood')

  const dir = path.join(tenant.root, 'logs', String(tenant.port))
  const sizes = fs.readdirSync(dir).filter((f) => f.startsWith('out')).map((f) => fs.statSync(path.join(dir, f)).size)
  t.ok(sizes.length <= KEEP + 1, `at most ${KEEP} old files besides the current one (${sizes.length})`)
  // A file may pass the size by what was buffered when it rotated (the 2 MB buffer) and a line.
  t.ok(sizes.every((s) => s <= (MAX_FILE_MB + 2) * 1024 * 1024 + 64 * 1024), `every file within the size bound (${sizes.map((s) => (s / 1048576).toFixed(1)).join(', ')} MB)`)

  const lines = logLines(tenant.root, tenant.port).filter((l) => l['msg'] === 'request completed')
  t.ok(lines.length > 0, 'request lines were written')
  t.ok(lines.every((l) => typeof l['url'] === 'string' && (l['url'] as string).length <= URL_LOG_MAX + 40), 'every logged URL is bounded')
  t.ok(lines.every((l) => JSON.stringify(l).length < 2000), 'every request line is short')
  const drops = logLines(tenant.root, tenant.port).filter((l) => typeof l['dropped'] === 'number')
  t.comment(`log lines dropped and reported: ${drops.reduce((n, l) => n + (l['dropped'] as number), 0)}`)
  const stopped = await tenant.stop()
  t.equal(stopped.code, 0, 'clean stop after the flood')
})
