/** Batches through the PresençaBank path (banco: presencabank): outcomes per scenario, SSE, resume after a restart without a second term, waiting on the pace. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import t from 'tap'
import { request } from 'undici'
import { ConfigStore } from '../../src/config/store.js'
import { openDatabase } from '../../src/db/database.js'
import { createTenant, type Tenant } from '../../src/tenant.js'
import { AUTH } from '../fixtures/app.js'
import { E2E_ENGINE } from '../fixtures/batches-sandbox.js'
import { waitFor } from '../fixtures/batches.js'
import { testConfig } from '../fixtures/config.js'
import { startSandbox, type RunningSandbox } from '../fixtures/sandbox.js'

const FAST = { PRESENCABANK_MAX_RPM: '600', BATCH_CONCURRENCY: '4', V8_MAX_RPS: '1000' }

async function tenant (t: { teardown(fn: () => unknown): void }, sb: RunningSandbox, o: { config?: Record<string, string>; file?: string; pacingGraceMs?: number } = {}): Promise<Tenant> {
  const store = new ConfigStore(testConfig(6999, { ...sb.tenantConfig(), ...FAST, ...o.config }))
  const created = await createTenant({
    config: store,
    db: openDatabase(o.file ?? ':memory:'),
    logger: pino({ level: 'silent' }),
    upstreamTimeoutMs: 3000,
    batch: { engine: E2E_ENGINE },
    presenca: { poll: { firstMs: 50, maxMs: 200 }, ...(o.pacingGraceMs !== undefined ? { pacingGraceMs: o.pacingGraceMs } : {}) },
  })
  t.teardown(created.close)
  return created
}

async function create (x: Tenant, body: Record<string, unknown>): Promise<string> {
  const res = await x.app.inject({ method: 'POST', url: '/clt/lotes', headers: AUTH, payload: body })
  if (res.statusCode !== 202) throw new Error(`POST /clt/lotes → ${res.statusCode} ${res.body}`)
  return res.json().lote_id as string
}

async function read (x: Tenant, id: string): Promise<any> {
  return (await x.app.inject({ method: 'GET', url: `/clt/lotes/${id}?limit=1000`, headers: AUTH })).json()
}

async function finished (x: Tenant, id: string): Promise<any> {
  return waitFor('batch end', async () => {
    const b = await read(x, id)
    return b.finished_at !== null ? b : undefined
  }, 60_000, 50)
}

t.test('a PresençaBank batch: each scenario’s verdict, one term per CPF, SSE to the end; the same CPFs again create nothing', async (t) => {
  const sb = await startSandbox(t)
  await sb.configure({ presenca_rpm: 10_000, presenca_sign_delay_ms: 100 })
  const x = await tenant(t, sb)
  const expected = new Map<string, { status: string; erro?: string }>()
  for (const p of await sb.people('ok', 4)) expected.set(p.cpf, { status: 'SUCCESS' })
  for (const p of await sb.people('no_margin', 2)) expected.set(p.cpf, { status: 'FAILED', erro: 'sem_margem' })
  for (const p of await sb.people('rejected', 2)) expected.set(p.cpf, { status: 'FAILED', erro: 'nao_elegivel' })
  for (const p of await sb.people('no_links', 2)) expected.set(p.cpf, { status: 'FAILED', erro: 'sem_vinculo' })
  const id = await create(x, { cpfs: [...expected.keys(), '11111111111'], banco: 'presencabank' })

  await x.app.listen({ port: 0, host: '127.0.0.1' })
  const address = x.app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const sse = await request(`http://127.0.0.1:${address.port}/clt/lotes/${id}/eventos`, { headers: AUTH })
  const text = await sse.body.text() // the stream ends after `done`
  const b = await finished(x, id)
  t.match(b, { status: 'COMPLETED', banco: 'presencabank', total: 11, sucessos: 4, erros: 7 }, 'completed with the PresençaBank counts')
  const wrong = b.itens.filter((i: any) => i.cpf !== '11111111111' && (i.status !== expected.get(i.cpf)!.status || i.erro !== expected.get(i.cpf)!.erro))
  t.same(wrong.map((i: any) => `${i.cpf}:${i.status}:${i.erro}`), [], 'every item has its scenario’s verdict')
  const ok = b.itens.find((i: any) => i.status === 'SUCCESS')
  t.match(ok.resultado, { origem: 'PRESENCABANK', elegivel: true, margem: { disponivel: Number }, termo: { id: String } }, 'items carry the PresençaBank result')
  t.equal((text.match(/^event: item$/gm) ?? []).length, 11, 'one SSE item event per CPF')
  t.match(text, /^event: done$/m, 'and done')
  const stats = await sb.stats()
  t.equal(stats.presenca_terms_created, 10, 'one term per valid CPF')
  t.equal(stats.consults_created, 0, 'no V8 consult: the PresençaBank path only')

  const again = await finished(x, await create(x, { cpfs: [...expected.keys()], banco: 'presencabank' }))
  t.match(again, { sucessos: 4, erros: 6 }, 'same verdicts')
  t.equal((await sb.stats()).presenca_terms_created, 10, 'no new term')
})

t.test('a batch stopped mid-way resumes in the next process on the same database, without a second term', async (t) => {
  const sb = await startSandbox(t)
  // This login may not sign: every item waits for its client to sign through the link.
  await sb.configure({ presenca_rpm: 10_000, presenca_sign_delay_ms: 0, presenca_self_sign: false })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cltv8-pb-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'data.sqlite')
  const people = await sb.people('ok', 4)
  const first = await tenant(t, sb, { file })
  const id = await create(first, { cpfs: people.map((p) => p.cpf), banco: 'presencabank' })
  const mid = await waitFor('every item waiting for its signature', async () => {
    const b = await read(first, id)
    return b.itens.every((i: any) => i.status === 'PENDING' && i.etapa === 'aguardando_assinatura') ? b : undefined
  }, 20_000, 20)
  t.match(mid, { sucessos: 0, erros: 0, pendentes: 4 }, 'all four pending when the process stops')
  await first.close()
  for (const p of people) await sb.presencaSign(p.cpf)
  const second = await tenant(t, sb, { file })
  const b = await finished(second, id)
  t.match(b, { status: 'COMPLETED', sucessos: 4 }, 'finished by the next process once the clients signed')
  const stats = await sb.stats()
  t.equal(stats.presenca_terms_created, 4, 'with the same four terms')
  t.equal(stats.routes['PUT /presenca/consultas/termo-inss/:id'], 4, 'each refused signature sent once, not again after the restart')
})

t.test('at the pace limit a batch item waits (PENDING, etapa aguardando_limite) instead of failing', async (t) => {
  const sb = await startSandbox(t)
  await sb.configure({ presenca_rpm: 10_000 })
  // 6 calls a minute: after the login the next slot is 10 s away, more than a batch item waits.
  const x = await tenant(t, sb, { config: { PRESENCABANK_MAX_RPM: '6' }, pacingGraceMs: 0 })
  const people = await sb.people('ok', 3)
  const id = await create(x, { cpfs: people.map((p) => p.cpf), banco: 'presencabank' })
  const waiting = await waitFor('an item waiting for its slot', async () => {
    const b = await read(x, id)
    return b.itens.find((i: any) => i.status === 'PENDING' && i.etapa === 'aguardando_limite')
  }, 20_000, 20)
  t.ok(waiting, 'shown as waiting for the pace')
  const b = await read(x, id)
  t.equal(b.erros, 0, 'nothing failed')
  t.match(x.services.presencaStatus(), { per_minute: 6 }, 'the limit in force')
  t.equal((await x.app.inject({ method: 'POST', url: `/clt/lotes/${id}/cancelar`, headers: AUTH })).statusCode, 200, 'cancelled (not waiting a minute per call here)')
})
