/**
 * Which opportunity holds a CPF, without listing whole pipelines for every lookup.
 *
 * Kentro has no search by CPF: the only way to find a CPF's opportunity is to list the configured pipelines
 * (`getPipeOpportunities`) and match the CPFs each opportunity holds (`mainmail`, the form's CPF field, a CPF
 * title). Doing that per lookup made a batch of N CPFs cost N listings of
 * every pipeline (O(N²) bytes parsed, for Kentro and for us). The index keeps, per pipeline, the last listing as
 * CPF → opportunity id, and answers a lookup with:
 *
 * - a **hit** in a listing that answered before this lookup began: the opportunity is read fresh (`getOpportunity`) and used
 *   only if it is still open, still in a configured pipeline and still holds this CPF — never stale CRM data;
 * - a **hit** in a listing that answered after the lookup began: the listed opportunity is used as is (it is as
 *   fresh as a direct listing, and a Kentro that does not serve getOpportunity still works);
 * - a **miss**: the pipelines are listed again unless their listing already started after this lookup began (so
 *   an opportunity created a moment ago is found, exactly as with a direct listing). Concurrent lookups share one
 *   listing per pipeline (single-flight), so a batch's workers that miss together cost one listing, not 32.
 *
 * Listings fail like any Kentro read (retried by the transport, then an UpstreamError); a failed listing is not
 * kept. A caller's abort signal ends its wait, never the shared listing.
 *
 * What is kept between lookups is CPF → opportunity id. The listed opportunities themselves (~4 KB of heap each: 10 MB
 * for the bench's 2,500) are only used by lookups that began before their listing answered, so they are dropped as
 * soon as none of those is still running.
 */
import { raceAbort } from './abort.js'
import { UpstreamError } from './errors.js'

export interface IndexedOpportunity {
  id: string
  fkPipeline?: number | null | undefined
  status?: unknown
  createdAt?: string | null | undefined
}

export interface OpportunityIndexDeps<O extends IndexedOpportunity> {
  list(pipelineId: number): Promise<O[]>
  get(id: string, signal?: AbortSignal): Promise<O>
  /** The CPFs an opportunity holds (mainmail, form field, title), most reliable first. */
  cpfsOf(o: O): string[]
  now?: () => number
  /** A listing older than this is not used even for hits (bounds what closed opportunities it remembers). */
  maxAgeMs?: number
}

interface Listing<O> {
  /** Order in which listings and lookups began: a listing with a higher number began after the lookup. */
  seq: number
  at: number
  /** Settles when the listing has answered (or failed). */
  ready: Promise<void>
  /** Set when the listing answered: CPF → id of the opportunity holding it, the newest (createdAt) when automations cloned the lead. */
  ids?: Map<string, string>
  /** The same opportunities as listed, kept while a lookup that began before the answer may still use them (#release). */
  listed?: Map<string, O>
  /** Set when the listing answered: lookups numbered below it began before the answer (it is fresh for them). */
  answered?: number
}

export class OpportunityIndex<O extends IndexedOpportunity> {
  readonly #d: OpportunityIndexDeps<O>
  readonly #now: () => number
  readonly #maxAgeMs: number
  readonly #listings = new Map<number, Listing<O>>()
  /** Numbers of the lookups running, oldest first (they are added in increasing order). */
  readonly #running = new Set<number>()
  #seq = 0
  #scope = ''

  constructor (deps: OpportunityIndexDeps<O>) {
    this.#d = deps
    this.#now = deps.now ?? Date.now
    this.#maxAgeMs = deps.maxAgeMs ?? 10 * 60_000
  }

  /**
   * The open opportunity holding `cpf` in `pipelines` (searched in order), or undefined.
   * `scope` names the Kentro account (URL, queue, key): listings of another account are dropped.
   */
  async find (cpf: string, pipelines: readonly number[], scope: string, signal?: AbortSignal): Promise<O | undefined> {
    this.#enter(scope)
    const lookup = ++this.#seq
    this.#running.add(lookup)
    try {
      const stale: number[] = []
      for (const pipelineId of pipelines) {
        const listing = this.#listing(pipelineId, 0)
        const hit = await this.#hit(listing, lookup, cpf, pipelines, signal)
        if (hit) return hit
        if (listing.seq < lookup || hit === null) stale.push(pipelineId)
      }
      for (const pipelineId of stale) {
        const hit = await this.#hit(this.#listing(pipelineId, lookup), lookup, cpf, pipelines, signal)
        if (hit) return hit
      }
      return undefined
    } finally {
      this.#running.delete(lookup)
      this.#release()
    }
  }

  /** Record a listing made elsewhere (e.g. a batch reading a pipeline's CPFs) so lookups can use it. */
  remember (pipelineId: number, scope: string, opportunities: readonly O[]): void {
    this.#enter(scope)
    const seq = ++this.#seq
    this.#listings.set(pipelineId, { seq, at: this.#now(), ready: Promise.resolve(), ...this.#byCpf(opportunities), answered: seq })
    this.#release()
  }

  #enter (scope: string): void {
    if (scope === this.#scope) return
    this.#listings.clear()
    this.#scope = scope
  }

  /** The pipeline's listing: the current one when it began after `after` and is young enough, else a new one. */
  #listing (pipelineId: number, after: number): Listing<O> {
    const current = this.#listings.get(pipelineId)
    if (current && current.seq > after && this.#now() - current.at < this.#maxAgeMs) return current
    const listing: Listing<O> = {
      seq: ++this.#seq,
      at: this.#now(),
      ready: this.#d.list(pipelineId).then((opps) => {
        Object.assign(listing, this.#byCpf(opps))
        listing.answered = ++this.#seq
        this.#release()
      }),
    }
    this.#listings.set(pipelineId, listing)
    // A failed listing is forgotten (the next lookup lists again); its callers get the error.
    listing.ready.catch(() => {
      if (this.#listings.get(pipelineId) === listing) this.#listings.delete(pipelineId)
    })
    return listing
  }

  #byCpf (opps: readonly O[]): { ids: Map<string, string>; listed: Map<string, O> } {
    const listed = new Map<string, O>()
    for (const o of opps) {
      for (const cpf of this.#d.cpfsOf(o)) {
        const held = listed.get(cpf)
        if (!held || createdAt(o) > createdAt(held)) listed.set(cpf, o)
      }
    }
    return { ids: new Map([...listed].map(([cpf, o]) => [cpf, o.id])), listed }
  }

  /**
   * Drop the listed opportunities no running lookup may use: a listing is used as listed only by lookups that began
   * before it answered, and every lookup that begins later reads its hit fresh from the id.
   */
  #release (): void {
    const oldest = this.#running.values().next().value ?? Infinity
    for (const listing of this.#listings.values()) {
      if (listing.listed && listing.answered !== undefined && listing.answered < oldest) delete listing.listed
    }
  }

  /**
   * The opportunity holding `cpf` in this listing: as listed when the listing began after the lookup, else read fresh.
   * null when the index was wrong (closed, moved, gone), undefined when the listing does not hold the CPF.
   */
  async #hit (listing: Listing<O>, lookup: number, cpf: string, pipelines: readonly number[], signal?: AbortSignal): Promise<O | null | undefined> {
    await raceAbort(listing.ready, signal)
    const id = listing.ids?.get(cpf)
    if (id === undefined) return undefined
    // Kept for this lookup by #release while it runs, when the listing answered after it began.
    let opp = (listing.answered ?? 0) > lookup ? listing.listed?.get(cpf) : undefined
    if (!opp) {
      try {
        opp = await this.#d.get(id, signal)
      } catch (e) {
        if (e instanceof UpstreamError && e.code === 'kentro_not_found') return null
        throw e
      }
    }
    const open = opp.status === undefined || opp.status === null || Number(opp.status) === 0
    const inPipeline = opp.fkPipeline === undefined || opp.fkPipeline === null || pipelines.includes(opp.fkPipeline)
    return open && inPipeline && this.#d.cpfsOf(opp).includes(cpf) ? opp : null
  }
}

/** createdAt in ms (ISO text in real answers); 0 when absent, so a dated opportunity wins over an undated one. */
function createdAt (o: IndexedOpportunity): number {
  const at = o.createdAt ? Date.parse(o.createdAt) : NaN
  return Number.isNaN(at) ? 0 : at
}
