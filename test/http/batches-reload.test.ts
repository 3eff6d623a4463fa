/** `pm2 reload` of a tenant mid-batch (new process up, old one drained): nothing lost, nothing run twice. Needs `npm run build`. */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { CODE_DIR } from '../../src/config/paths.js'
import { writeEcosystem } from '../../src/cli/ecosystem.js'
import { openDatabase } from '../../src/db/database.js'
import { tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { privatePm2 } from '../fixtures/pm2.js'
import { startSandbox } from '../fixtures/sandbox.js'
import { api, waitHealthy } from '../fixtures/batches-process.js'
import { waitFor } from '../fixtures/batches.js'
import { AUTH } from '../fixtures/app.js'
import { openStream } from '../fixtures/sse.js'

t.test('pm2 reload mid-batch: the old process drains, the new one finishes, every item once', async (t) => {
  const sb = await startSandbox(t)
  await sb.configure({ consult_delay_ms: 300, slow_ms: 3000 })
  const expected = new Map<string, string>()
  for (const [scenario, n, status] of [['ok', 70, 'SUCCESS'], ['slow', 20, 'SUCCESS'], ['rejected', 30, 'FAILED']] as const) {
    for (const p of await sb.people(scenario, n)) expected.set(p.cpf, status)
  }
  await sb.faults({ latency_ms: 30 })
  const root = tempRoot(t, 'cltv8-reload-')
  const port = await freePort()
  writeTenantConfig(root, port, { ...sb.tenantConfig(), BATCH_CONCURRENCY: '8', V8_MAX_RPS: '1000', LOG_LEVEL: 'info' })
  writeEcosystem(root, CODE_DIR)
  const pm = privatePm2(t)
  const app = `clt-v8-api-${port}`
  await pm.pm2(['start', 'ecosystem.config.cjs', '--only', app], { cwd: root })
  await waitHealthy(port)

  const id = (await api(port, 'POST', '/clt/lotes', { cpfs: [...expected.keys()] })).body.lote_id as string
  await waitFor('25 processed', async () => (await api(port, 'GET', `/clt/lotes/${id}?limit=1`)).body.processados >= 25, 60_000, 50)
  // Someone follows the batch live (EventSource, curl -N) through the reload.
  const base = `http://127.0.0.1:${port}`
  const watching = await openStream(base, `/clt/lotes/${id}/eventos`)
  await waitFor('the stream under way', () => watching.events.some((e) => e.event === 'item'), 30_000, 50)
  const pidBefore = (await pm.jlist()).find((p) => p.name === app)!.pid
  const reloadAt = Date.now()
  await pm.pm2(['reload', 'ecosystem.config.cjs', '--only', app], { cwd: root })
  const reloadMs = Date.now() - reloadAt
  const pidAfter = (await pm.jlist()).find((p) => p.name === app)!.pid
  t.not(pidAfter, pidBefore, 'the process was replaced')
  await watching.finished
  const last = watching.events.at(-1)!
  t.equal(last.event, 'reconnect', 'the stream of the old process ended with a reconnect event, not silently')
  const lastId = last.data.last_event_id as string | null
  const resumed = await openStream(base, `/clt/lotes/${id}/eventos`, { ...AUTH, ...(lastId ? { 'last-event-id': lastId } : {}) })

  const final = await waitFor('batch end', async () => {
    const b = (await api(port, 'GET', `/clt/lotes/${id}?limit=1`)).body
    return b.finished_at !== null ? b : undefined
  }, 90_000, 100)
  t.equal(final.status, 'COMPLETED', 'COMPLETED')
  await resumed.finished
  t.equal(resumed.events.at(-1)?.event, 'done', 'the resumed stream (on the new process) ends with done')
  const streamed = [...watching.events, ...resumed.events].filter((e) => e.event === 'item').map((e) => e.data.cpf as string)
  t.same([...streamed].sort(), [...expected.keys()].sort(), 'across the reload, the two streams sent every CPF exactly once')
  t.same([final.total, final.sucessos, final.erros], [120, 90, 30], 'counts match the scenarios exactly')

  const db = openDatabase(path.join(root, 'tenants', `data-${port}.sqlite`))
  const items = db.prepare('SELECT cpf, status, attempts, lease_owner FROM batch_items').all() as Array<{ cpf: string; status: string; attempts: number; lease_owner: string | null }>
  db.close()
  t.same(items.filter((i) => i.status !== expected.get(i.cpf)), [], 'every item has its scenario outcome')
  t.ok(items.every((i) => i.lease_owner === null), 'no lease left')
  const stats = await sb.stats()
  t.same([...expected.keys()].filter((cpf) => stats.consults_by_cpf[cpf] !== 1), [], 'exactly one consult per CPF')
  const out = fs.readFileSync(path.join(root, 'logs', `out-${port}.log`), 'utf8')
  t.ok(out.split('\n').some((l) => l.includes('"pid":' + pidBefore) && l.includes('"msg":"stopped"')), 'the old process stopped cleanly')
  t.equal(fs.readFileSync(path.join(root, 'logs', `error-${port}.log`), 'utf8'), '', 'no errors logged')
  t.comment(`pm2 reload mid-batch: reload took ${reloadMs} ms; ${items.filter((i) => i.attempts > 1).length} items ran more than once (pending polls or drained leases); counts exact`)
})
