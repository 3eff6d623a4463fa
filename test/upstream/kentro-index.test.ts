/** The pipeline index behind findOpportunityByCpf: listings shared and reused, hits read fresh, misses listed again. */
import { queryObjects } from 'node:v8'
import t from 'tap'
import { upstreamNotFound, upstreamUnavailable } from '../../src/upstream/errors.js'
import { OpportunityIndex, type IndexedOpportunity } from '../../src/upstream/kentro-index.js'
import { startSandbox } from '../fixtures/sandbox.js'
import { servicesFor } from '../fixtures/upstream.js'

interface Opp extends IndexedOpportunity {
  title: string
  mainmail: string
}

/** A scripted CRM: pipelines of opportunities, counting listings and reads; listings can be made slow or failing. */
function crm (initial: Record<number, Opp[]>) {
  const pipelines = new Map(Object.entries(initial).map(([k, v]) => [Number(k), v.map((o) => ({ ...o }))]))
  const calls = { list: 0, get: 0 }
  let listDelay = 0
  let failNext = 0
  const all = (): Opp[] => [...pipelines.values()].flat()
  let clock = 0
  const index = new OpportunityIndex<Opp>({
    async list (pipelineId) {
      calls.list++
      await new Promise((resolve) => setTimeout(resolve, listDelay))
      if (failNext > 0) {
        failNext--
        throw upstreamUnavailable('Kentro', 'getPipeOpportunities', 'HTTP 503')
      }
      return (pipelines.get(pipelineId) ?? []).filter((o) => o.status === 0).map((o) => ({ ...o }))
    },
    async get (id) {
      calls.get++
      const o = all().find((x) => x.id === id)
      if (!o) throw upstreamNotFound('Kentro', 'getOpportunity', 'Opportunity not found')
      return { ...o }
    },
    cpfsOf: (o) => [o.mainmail.replace(/\D/g, '')].filter(Boolean),
    now: () => clock,
    maxAgeMs: 60_000,
  })
  return {
    index,
    calls,
    pipelines,
    setListDelay: (ms: number) => (listDelay = ms),
    failListings: (n: number) => (failNext = n),
    advance: (ms: number) => (clock += ms),
    find: (cpf: string, signal?: AbortSignal) => index.find(cpf, [1, 3], 'acct', signal),
  }
}

const opp = (id: number, cpf: string, pipeline: number, status = 0, createdAt?: string): Opp => ({ id: String(id), mainmail: cpf, fkPipeline: pipeline, status, title: `o${id}`, ...(createdAt ? { createdAt } : {}) })
const cpfs = Array.from({ length: 40 }, (_, i) => String(10_000_000_000 + i))

t.test('a cold burst of lookups lists each pipeline once; hits in an older listing are read fresh', async (t) => {
  const c = crm({ 1: cpfs.slice(0, 20).map((cpf, i) => opp(i + 1, cpf, 1)), 3: cpfs.slice(20).map((cpf, i) => opp(i + 100, cpf, 3)) })
  c.setListDelay(20)
  const found = await Promise.all(cpfs.map((cpf) => c.find(cpf)))
  t.same(found.map((o) => o?.mainmail), cpfs, 'every CPF found in its pipeline')
  t.equal(c.calls.list, 2, 'two pipelines, two listings for 40 concurrent lookups')
  t.equal(c.calls.get, 0, 'the listings began after the lookups: as fresh as a direct listing, no extra read')
  await Promise.all(cpfs.map((cpf) => c.find(cpf)))
  t.equal(c.calls.list, 2, 'a second round reuses the listings')
  t.equal(c.calls.get, 40, 'and reads each hit fresh (the listing is older than the lookup)')
})

t.test('a miss lists again (an opportunity created a moment ago is found); concurrent misses share it', async (t) => {
  const c = crm({ 1: [opp(1, cpfs[0]!, 1)], 3: [] })
  t.ok(await c.find(cpfs[0]!), 'warm')
  t.equal(c.calls.list, 1, 'the hit in the first pipeline ends the search: one listing')
  c.pipelines.get(3)!.push(opp(7, cpfs[1]!, 3))
  t.equal((await c.find(cpfs[1]!))?.id, '7', 'created after the listing: found')
  t.equal(c.calls.list, 2, 'pipeline 1 (old listing, miss) then pipeline 3 listed for the first time (hit)')
  c.setListDelay(20)
  const none = await Promise.all([cpfs[2]!, cpfs[3]!, cpfs[4]!].map((cpf) => c.find(cpf)))
  t.same(none, [undefined, undefined, undefined], 'absent CPFs → undefined')
  t.equal(c.calls.list, 4, 'three concurrent misses: one more listing per pipeline')
})

t.test('an indexed opportunity that closed, moved or vanished is not used', async (t) => {
  const c = crm({ 1: [opp(1, cpfs[0]!, 1), opp(2, cpfs[1]!, 1), opp(3, cpfs[2]!, 1)], 3: [] })
  await c.find(cpfs[0]!)
  c.pipelines.get(1)![0]!.status = 1
  c.pipelines.get(3)!.push(opp(9, cpfs[0]!, 3))
  t.equal((await c.find(cpfs[0]!))?.id, '9', 'closed → the open one found after a new listing')
  c.pipelines.get(1)![1]!.fkPipeline = 8
  t.equal(await c.find(cpfs[1]!), undefined, 'moved out of the configured pipelines → not found')
  c.pipelines.set(1, c.pipelines.get(1)!.filter((o) => o.id !== '3'))
  t.equal(await c.find(cpfs[2]!), undefined, 'deleted (404) → not found, no error')
  const renamed = crm({ 1: [opp(1, cpfs[0]!, 1)], 3: [] })
  await renamed.find(cpfs[0]!)
  renamed.pipelines.get(1)![0]!.mainmail = cpfs[5]!
  t.equal(await renamed.find(cpfs[0]!), undefined, 'the opportunity no longer holds this CPF → not used')
  t.equal((await renamed.find(cpfs[5]!))?.id, '1', 'found under its new CPF')
})

t.test('a failed listing reaches the caller and is not kept; an old listing is replaced', async (t) => {
  const c = crm({ 1: [opp(1, cpfs[0]!, 1)], 3: [] })
  c.failListings(1)
  await t.rejects(c.find(cpfs[0]!), { code: 'upstream_unavailable' }, 'the listing error goes up')
  t.equal((await c.find(cpfs[0]!))?.id, '1', 'the next lookup lists again')
  const lists = c.calls.list
  c.advance(61_000)
  await c.find(cpfs[0]!)
  t.ok(c.calls.list > lists, 'a listing past its max age is not used')
  await c.index.find(cpfs[0]!, [1, 3], 'another-account')
  t.equal(c.calls.list, lists + 2, 'another Kentro account starts from nothing')
})

t.test("a caller's abort ends its wait, not the shared listing", async (t) => {
  const c = crm({ 1: [opp(1, cpfs[0]!, 1)], 3: [] })
  c.setListDelay(50)
  const ac = new AbortController()
  const aborted = c.find(cpfs[0]!, ac.signal)
  const other = c.find(cpfs[0]!)
  ac.abort(new Error('caller gave up'))
  await t.rejects(aborted, { message: 'caller gave up' }, 'the aborting caller stops waiting')
  t.equal((await other)?.id, '1', 'the other caller gets the shared listing')
  t.equal(c.calls.list, 1, 'one listing, shared')
  await t.rejects(c.find(cpfs[0]!, AbortSignal.abort(new Error('already'))), { message: 'already' }, 'an already aborted signal')
})

t.test('against the sandbox: 60 concurrent lookups cost one listing per pipeline', async (t) => {
  const sb = await startSandbox(t)
  const { services } = servicesFor(t, sb)
  const people = [...(await sb.people('ok', 40)), ...(await sb.people('rejected', 20))]
  const found = await Promise.all(people.map((p) => services.kentro.findOpportunityByCpf(p.cpf)))
  t.same(found.map((o) => o?.id), people.map((p) => String(p.opportunityId)), 'each CPF → its opportunity')
  const stats = await sb.stats()
  t.equal(stats.routes['POST /kentro/int/getPipeOpportunities'], 3, 'three pipelines, three listings')
  t.equal(stats.routes['POST /kentro/int/getOpportunity'] ?? 0, 0, 'no extra read: the listings answered after the lookups began')
  // A listing made for a batch (origem kentro) serves lookups too.
  const fresh = servicesFor(t, sb).services
  await fresh.kentro.getPipeOpportunities(people[0]!.pipelineId)
  const before = (await sb.stats()).routes['POST /kentro/int/getPipeOpportunities']
  t.equal((await fresh.kentro.findOpportunityByCpf(people[0]!.cpf))?.id, String(people[0]!.opportunityId), 'found')
  const after = (await sb.stats()).routes['POST /kentro/int/getPipeOpportunities']
  t.equal((await sb.stats()).routes['POST /kentro/int/getOpportunity'], 1, 'a remembered (older) listing: the hit is read fresh')
  const earlier = [1, 3, 4].indexOf(people[0]!.pipelineId)
  t.equal(after! - before!, earlier, 'the remembered listing was used: only the pipelines searched before it were listed')
})

t.test('several opportunities hold the CPF (cloned leads): the newest one is used', async (t) => {
  const c = crm({ 1: [opp(1, cpfs[0]!, 1, 0, '2025-10-01T10:00:00.000Z'), opp(2, cpfs[0]!, 1, 0, '2025-11-20T10:00:00.000Z'), opp(3, cpfs[0]!, 1, 0, '2025-09-01T10:00:00.000Z')], 3: [] })
  t.equal((await c.find(cpfs[0]!))?.id, '2', 'the newest createdAt wins, wherever it is in the listing')
})

t.test('a Kentro that does not serve getOpportunity still finds the CPF (from a listing made for the lookup)', async (t) => {
  let listings = 0
  let clock = 0
  const index = new OpportunityIndex<Opp>({
    async list () {
      listings++
      return [opp(1, cpfs[0]!, 1)]
    },
    async get () {
      throw upstreamNotFound('Kentro', 'getOpportunity', 'Method not found')
    },
    cpfsOf: (o) => [o.mainmail],
    now: () => clock,
  })
  t.equal((await index.find(cpfs[0]!, [1], 'acct'))?.id, '1', 'cold: the listed opportunity, no read needed')
  clock += 1000
  t.equal((await index.find(cpfs[0]!, [1], 'acct'))?.id, '1', 'warm: the fresh read fails, a new listing finds it')
  t.equal(listings, 2, 'at the cost of one listing')
})

t.test('between lookups the index keeps ids, not the listed opportunities', async (t) => {
  // Instances of their own class, so the heap can be asked how many are still reachable (queryObjects collects first).
  class Listed implements Opp {
    constructor (readonly id: string, readonly mainmail: string, readonly fkPipeline: number, readonly status: number, readonly title: string) {}
  }
  const held = (): number => queryObjects(Listed, { format: 'count' })
  let clock = 0
  const index = new OpportunityIndex<Opp>({
    async list () {
      await new Promise((resolve) => setTimeout(resolve, 20))
      return cpfs.map((cpf, i) => new Listed(String(i + 1), cpf, 1, 0, `o${i + 1}`))
    },
    async get (id) {
      const i = Number(id) - 1
      return opp(i + 1, cpfs[i]!, 1)
    },
    cpfsOf: (o) => [o.mainmail],
    now: () => clock,
  })
  let first: Array<Opp | undefined> | undefined = await Promise.all(cpfs.slice(0, 5).map((cpf) => index.find(cpf, [1], 'acct')))
  t.same(first.map((o) => o?.id), ['1', '2', '3', '4', '5'], 'the cold lookups found their opportunities')
  t.ok(first.every((o) => o instanceof Listed), 'as listed (the listing answered after they began)')
  t.equal(held(), 5, `of the ${cpfs.length} listed, only the 5 the callers hold are still reachable`)
  first = undefined
  clock += 1000
  const later = await index.find(cpfs[30]!, [1], 'acct')
  t.equal(later?.id, '31', 'a later lookup still finds its CPF through the kept id')
  t.notOk(later instanceof Listed, 'read fresh')
  t.equal(held(), 0, 'and nothing of the listing is left but ids')
})
