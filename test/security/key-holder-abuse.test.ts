/**
 * Findings 6 and 9 (abuse by a key holder), against a real tenant: event streams capped per address and per tenant;
 * batches capped per day, CPFs per day and pending CPFs, each a 429 saying when to retry; a 5,000-level nested body
 * is a 400, not a 500.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { request, type Dispatcher } from 'undici'
import { MAX_JSON_DEPTH } from '../../src/http/json-body.js'
import { TEST_API_KEY } from '../fixtures/config.js'
import { validCpfs } from '../fixtures/batches.js'
import { freePort } from '../fixtures/net.js'
import { call, closeAgents, NEEDS_BUILD, startSecuredTenant, waitFor } from '../fixtures/security.js'

t.teardown(closeAgents)

/**
 * A tenant whose batches stay open: Kentro points (explicitly allowed) at a closed loopback port, so every item
 * fails transiently and is rescheduled instead of finishing.
 */
async function stuckTenant (t: Parameters<typeof startSecuredTenant>[0], extra: Record<string, string>) {
  const closed = await freePort()
  return startSecuredTenant(t, {
    config: {
      UPSTREAM_ALLOWLIST: '127.0.0.1',
      KENTRO_API_URL: `http://127.0.0.1:${closed}/int`,
      KENTRO_API_KEY: 'k',
      KENTRO_QUEUE_ID: '1',
      ...extra,
    },
  })
}

/** Open an SSE stream; resolves once the status line is in (the body stays open until destroyed). */
async function openStream (port: number, id: string, from: string, dispatchers: Map<string, Dispatcher>): Promise<Dispatcher.ResponseData> {
  const { Agent } = await import('undici')
  let d = dispatchers.get(from)
  if (!d) {
    d = new Agent({ localAddress: from, connections: 100 })
    dispatchers.set(from, d)
  }
  return request(`http://127.0.0.1:${port}/clt/lotes/${id}/eventos`, { headers: { authorization: `Bearer ${TEST_API_KEY}` }, dispatcher: d, headersTimeout: 10_000 })
}

t.test('event streams: capped per address and per tenant with a 429 saying when; a closed stream frees its slot', { skip: NEEDS_BUILD }, async (t) => {
  const tenant = await stuckTenant(t, { EVENT_STREAMS_PER_ADDRESS: '5', EVENT_STREAMS_MAX: '8' })
  const created = await call(tenant, 'POST', '/clt/lotes', { json: { cpfs: validCpfs(3) } })
  t.equal(created.status, 202, 'a batch to watch')
  const id = created.body.lote_id as string
  const dispatchers = new Map<string, Dispatcher>()
  t.teardown(async () => { for (const d of dispatchers.values()) await d.destroy() })
  const open: Dispatcher.ResponseData[] = []
  const statusOf = async (from: string): Promise<number> => {
    const res = await openStream(tenant.port, id, from, dispatchers)
    if (res.statusCode === 200) open.push(res)
    else await res.body.text()
    return res.statusCode
  }

  const first = []
  for (let i = 0; i < 6; i++) first.push(await statusOf('127.0.0.1'))
  t.same(first, [200, 200, 200, 200, 200, 429], 'five streams from one address, the sixth refused')
  const refused = await openStream(tenant.port, id, '127.0.0.1', dispatchers)
  t.equal(refused.statusCode, 429, 'still refused')
  t.equal(refused.headers['retry-after'], '10', 'Retry-After says when')
  const body = await refused.body.json() as { error: string; details: { limite: string } }
  t.equal(body.error, 'muitos_streams', 'stable code')
  t.equal(body.details.limite, 'endereco', 'the per-address limit')

  const second = []
  for (let i = 0; i < 4; i++) second.push(await statusOf('127.0.0.2'))
  t.same(second, [200, 200, 200, 429], 'another address gets the rest of the tenant\'s eight, then a refusal')
  t.equal(open.length, 8, 'streams held: 8 of 8')

  open.shift()!.body.destroy()
  t.ok(await waitFor(async () => (await statusOf('127.0.0.2')) === 200, 15_000, 200), 'a closed stream frees its slot')
  for (const r of open) r.body.destroy()
})

const invalidCpfs = (n: number, series: number): string[] => Array.from({ length: n }, (_, i) => String(100_000_000_000 + series * 10_000 + i)) // 12 digits: never a CPF

t.test('20 batches of 5,000 invalid CPFs: the daily CPF quota stops the fifth, with when to retry; the database stays small', { skip: NEEDS_BUILD }, async (t) => {
  const tenant = await startSecuredTenant(t)
  const statuses: number[] = []
  let quota: Awaited<ReturnType<typeof call>> | undefined
  for (let i = 0; i < 20; i++) {
    const res = await call(tenant, 'POST', '/clt/lotes', { json: { cpfs: invalidCpfs(5000, i) } })
    statuses.push(res.status)
    if (res.status === 429) quota ??= res
  }
  t.equal(statuses.filter((s) => s === 202).length, 4, 'four batches accepted (20,000 CPFs, the default daily quota)')
  t.equal(statuses.filter((s) => s === 429).length, 16, 'the other sixteen refused')
  t.equal(quota?.body.error, 'cota_diaria_de_cpfs', 'as over the daily CPF quota')
  const retry = Number(quota?.headers['retry-after'])
  t.ok(retry > 86_000 && retry <= 86_400, `Retry-After: when the first batch leaves the 24 h window (${retry} s)`)
  t.match(quota?.body.message, /Tente de novo em (23 h \d+ min|24 h)\./, 'and the message says it')
  await tenant.stop()
  const dir = path.join(tenant.root, 'tenants')
  const bytes = fs.readdirSync(dir).filter((f) => f.startsWith(`data-${tenant.port}`)).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0)
  t.comment(`database after the attack: ${(bytes / 1048576).toFixed(1)} MB`)
  t.ok(bytes < 15 * 1024 * 1024, 'the database stayed small')
})

t.test('batches per day and pending CPFs: each quota answers 429 with Retry-After', { skip: NEEDS_BUILD }, async (t) => {
  const tenant = await stuckTenant(t, { BATCHES_PER_DAY: '3', BATCH_MAX_PENDING_ITEMS: '10' })
  const cpfs = validCpfs(20)
  t.equal((await call(tenant, 'POST', '/clt/lotes', { json: { cpfs: cpfs.slice(0, 8) } })).status, 202, 'eight pending CPFs')
  const full = await call(tenant, 'POST', '/clt/lotes', { json: { cpfs: cpfs.slice(8, 13) } })
  t.equal(full.status, 429, 'five more would pass the ten pending')
  t.equal(full.body.error, 'fila_de_lotes_cheia', 'stable code')
  t.equal(full.headers['retry-after'], '60', 'Retry-After')
  t.equal((await call(tenant, 'POST', '/clt/lotes', { json: { cpfs: cpfs.slice(8, 10) } })).status, 202, 'two more fit')
  t.equal((await call(tenant, 'POST', '/clt/lotes', { json: { cpfs: invalidCpfs(3, 0) } })).status, 202, 'a third batch today')
  const fourth = await call(tenant, 'POST', '/clt/lotes', { json: { cpfs: invalidCpfs(3, 1) } })
  t.equal(fourth.status, 429, 'a fourth is refused')
  t.equal(fourth.body.error, 'cota_diaria_de_lotes', 'as over the batches per day')
  t.ok(Number(fourth.headers['retry-after']) > 86_000, 'Retry-After: a day after the first')
})

t.test('a 5,000-level nested dadosSimulacao is a 400 naming the limit, not a 500', { skip: NEEDS_BUILD }, async (t) => {
  const tenant = await startSecuredTenant(t)
  const nested = (depth: number): string => `{"cpf":"52998224725","consultId":"c1","dadosSimulacao":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`
  const deep = await call(tenant, 'POST', '/cache/simulacao/salvar', { rawBody: nested(5000) })
  t.equal(deep.status, 400, '400')
  t.equal(deep.body.error, 'json_muito_aninhado', 'stable code')
  t.match(deep.body.message, new RegExp(`${MAX_JSON_DEPTH} níveis`), 'names the limit')
  const justOver = await call(tenant, 'POST', '/cache/simulacao/salvar', { rawBody: nested(MAX_JSON_DEPTH) })
  t.equal(justOver.status, 400, `a body nesting ${MAX_JSON_DEPTH + 1} levels is refused`)
  const ok = await call(tenant, 'POST', '/cache/simulacao/salvar', { rawBody: nested(MAX_JSON_DEPTH - 2) })
  t.equal(ok.status, 200, 'a reasonably nested body is saved')
  const brackets = await call(tenant, 'POST', '/cache/simulacao/salvar', { json: { cpf: '52998224725', consultId: 'c1', dadosSimulacao: { s: '{'.repeat(5000) } } })
  t.equal(brackets.status, 200, 'brackets inside strings do not count')
  t.ok(tenant.alive(), 'the tenant is fine')
})
