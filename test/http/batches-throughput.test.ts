/** Batch throughput against the sandbox with injected latency, tenant as a real process: wall time vs ideal, peak RSS. Needs `npm run build`. */
import fs from 'node:fs'
import t from 'tap'
import { tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { startSandbox } from '../fixtures/sandbox.js'
import { api, startTenantProcess, waitHealthy } from '../fixtures/batches-process.js'
import { waitFor } from '../fixtures/batches.js'

const LATENCY_MS = 50
const ITEMS = 200
const CONCURRENCY = 8
/** PM2's max_memory_restart for a tenant (src/cli/ecosystem.ts): a batch must stay well below it. */
const RESTART_MB = 300

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

t.test(`${ITEMS} CPFs, ${LATENCY_MS} ms per upstream call, concurrency ${CONCURRENCY}: near the ideal, bounded memory`, async (t) => {
  const sb = await startSandbox(t)
  await sb.configure({ consult_delay_ms: 0 })
  const people = await sb.people('ok', ITEMS)
  const root = tempRoot(t, 'cltv8-tput-')
  const port = await freePort()
  writeTenantConfig(root, port, { ...sb.tenantConfig(), BATCH_CONCURRENCY: String(CONCURRENCY), V8_MAX_RPS: '1000', LOG_LEVEL: 'info' })
  const p = startTenantProcess(t, root, port, { measured: true })
  await waitHealthy(port)
  const idle = rssMb(p.pid)
  await sb.faults({ latency_ms: LATENCY_MS })
  const before = await sb.stats()
  const t0 = Date.now()
  const id = (await api(port, 'POST', '/clt/lotes', { cpfs: people.map((x) => x.cpf) })).body.lote_id as string
  const final = await waitFor('batch end', async () => {
    const b = (await api(port, 'GET', `/clt/lotes/${id}?limit=1`)).body
    return b.finished_at !== null ? b : undefined
  }, 180_000, 100)
  const wall = Date.now() - t0
  const peak = p.peakRssMb() ?? 0
  const after = await sb.stats()
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0)
  const calls = sum(after.routes) - sum(before.routes)
  const ideal = (calls * LATENCY_MS) / CONCURRENCY
  t.equal(final.sucessos, ITEMS, 'every CPF succeeded')
  t.ok(wall < ideal * 4, `wall ${wall} ms within 4× the ideal ${Math.round(ideal)} ms`)
  t.ok(peak < RESTART_MB * 0.9, `peak RSS ${peak} MB stays below 90 % of the ${RESTART_MB} MB PM2 restart threshold`)
  p.child.kill('SIGTERM')
  t.equal((await p.exited).code, 0, 'clean stop')
  t.comment(
    `throughput: ${ITEMS} CPFs × ${(calls / ITEMS).toFixed(1)} upstream calls × ${LATENCY_MS} ms ÷ ${CONCURRENCY} = ideal ${(ideal / 1000).toFixed(1)} s; ` +
      `measured ${(wall / 1000).toFixed(1)} s (×${(wall / ideal).toFixed(2)}), ${((ITEMS * 1000) / wall).toFixed(1)} CPFs/s; RSS idle ${idle.toFixed(0)} MB, peak ${peak} MB`
  )
})
