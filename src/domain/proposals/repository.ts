/** SQL of the `proposals` table: one row per proposal (V8 operation), its status history and version, snake → camel. */
import type { Statement } from 'better-sqlite3'
import type { Db } from '../../db/database.js'
import type { OperationBorrower } from '../../upstream/v8-operations.js'

export interface HistoryEntry {
  status: string
  em: string
  /** What told us: criacao, webhook, consulta (a detail read), cancelamento, busca (a lookup after a lost answer). */
  origem: string
}

export interface Proposal {
  id: string
  cpf: string
  operationId: string | null
  simulationId: string
  consultId: string | null
  opportunityId: string | null
  status: string
  formalizationUrl: string | null
  contractNumber: string | null
  /** Bumped on every status change: `proposta_<id>_<version>` is that change's callback event id. */
  version: number
  /** What was sent to V8 and where each value came from. */
  sent: { borrower?: OperationBorrower; origem?: Record<string, string> }
  history: HistoryEntry[]
  error: string | null
  kentroStatus: string | null
  kentroError: string | null
  createdAt: number
  updatedAt: number
}

interface Row {
  id: string
  cpf: string
  operation_id: string | null
  simulation_id: string
  consult_id: string | null
  opportunity_id: string | null
  status: string
  formalization_url: string | null
  contract_number: string | null
  version: number
  sent: string
  history: string
  error: string | null
  kentro_status: string | null
  kentro_error: string | null
  created_at: number
  updated_at: number
}

const parse = <T>(text: string, fallback: T): T => {
  try {
    return JSON.parse(text) as T
  } catch {
    return fallback
  }
}

const toProposal = (r: Row): Proposal => ({
  id: r.id,
  cpf: r.cpf,
  operationId: r.operation_id,
  simulationId: r.simulation_id,
  consultId: r.consult_id,
  opportunityId: r.opportunity_id,
  status: r.status,
  formalizationUrl: r.formalization_url,
  contractNumber: r.contract_number,
  version: r.version,
  sent: parse(r.sent, {}),
  history: parse(r.history, []),
  error: r.error,
  kentroStatus: r.kentro_status,
  kentroError: r.kentro_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

export interface ListQuery {
  cpf?: string | undefined
  status?: string | undefined
  from?: number | undefined
  to?: number | undefined
  limit: number
  offset: number
}

export class ProposalRepository {
  readonly #s: Record<'insert' | 'byId' | 'byOperation' | 'openCreation' | 'latest' | 'list' | 'count' | 'update' | 'kentro', Statement>

  constructor (db: Db) {
    this.#s = {
      insert: db.prepare(
        `INSERT INTO proposals (id, cpf, simulation_id, consult_id, opportunity_id, status, version, sent, history, created_at, updated_at)
         VALUES (@id, @cpf, @simulationId, @consultId, @opportunityId, 'criando', 0, @sent, @history, @now, @now)`
      ),
      byId: db.prepare('SELECT * FROM proposals WHERE id = ? OR operation_id = ?'),
      byOperation: db.prepare('SELECT * FROM proposals WHERE operation_id = ?'),
      openCreation: db.prepare('SELECT * FROM proposals WHERE cpf = ? AND status IN (\'criando\', \'indefinida\')'),
      latest: db.prepare('SELECT * FROM proposals WHERE cpf = ? ORDER BY created_at DESC, rowid DESC LIMIT 1'),
      list: db.prepare(
        `SELECT * FROM proposals WHERE (@cpf IS NULL OR cpf = @cpf) AND (@status IS NULL OR status = @status)
           AND (@from IS NULL OR created_at >= @from) AND (@to IS NULL OR created_at <= @to)
         ORDER BY created_at DESC, rowid DESC LIMIT @limit OFFSET @offset`
      ),
      count: db.prepare(
        `SELECT count(*) AS n FROM proposals WHERE (@cpf IS NULL OR cpf = @cpf) AND (@status IS NULL OR status = @status)
           AND (@from IS NULL OR created_at >= @from) AND (@to IS NULL OR created_at <= @to)`
      ),
      update: db.prepare(
        `UPDATE proposals SET operation_id = @operationId, status = @status, formalization_url = @formalizationUrl, contract_number = @contractNumber,
           version = @version, history = @history, error = @error, updated_at = @now
         WHERE id = @id AND version = @expected`
      ),
      kentro: db.prepare('UPDATE proposals SET kentro_status = @status, kentro_error = @error WHERE id = @id'),
    }
  }

  /** A new proposal in `criando`; throws on the unique index when the CPF already has one being created. */
  insert (p: { id: string; cpf: string; simulationId: string; consultId: string | null; opportunityId: string | null; sent: Proposal['sent']; now: number }): Proposal {
    const history: HistoryEntry[] = [{ status: 'criando', em: new Date(p.now).toISOString(), origem: 'criacao' }]
    this.#s.insert.run({ ...p, sent: JSON.stringify(p.sent), history: JSON.stringify(history) })
    return this.get(p.id)!
  }

  /** By our id or V8's operation id. */
  get (id: string): Proposal | undefined {
    const r = this.#s.byId.get(id, id) as Row | undefined
    return r ? toProposal(r) : undefined
  }

  byOperation (operationId: string): Proposal | undefined {
    const r = this.#s.byOperation.get(operationId) as Row | undefined
    return r ? toProposal(r) : undefined
  }

  /** The CPF's proposal whose creation is not settled yet (criando / indefinida), if any. */
  openCreation (cpf: string): Proposal | undefined {
    const r = this.#s.openCreation.get(cpf) as Row | undefined
    return r ? toProposal(r) : undefined
  }

  latestOf (cpf: string): Proposal | undefined {
    const r = this.#s.latest.get(cpf) as Row | undefined
    return r ? toProposal(r) : undefined
  }

  list (q: ListQuery): { total: number; items: Proposal[] } {
    const params = { cpf: q.cpf ?? null, status: q.status ?? null, from: q.from ?? null, to: q.to ?? null, limit: q.limit, offset: q.offset }
    return { total: (this.#s.count.get(params) as { n: number }).n, items: (this.#s.list.all(params) as Row[]).map(toProposal) }
  }

  /**
   * Write a changed proposal when nobody changed it since `before` was read (optimistic: the version must match);
   * a status change appends to the history and bumps the version. Returns the stored proposal, or undefined on a race.
   */
  save (before: Proposal, change: Partial<Pick<Proposal, 'operationId' | 'status' | 'formalizationUrl' | 'contractNumber' | 'error'>>, origem: string, now: number): Proposal | undefined {
    const status = change.status ?? before.status
    const moved = status !== before.status
    const history = moved ? [...before.history, { status, em: new Date(now).toISOString(), origem }] : before.history
    const next = {
      id: before.id,
      expected: before.version,
      operationId: change.operationId ?? before.operationId,
      status,
      formalizationUrl: change.formalizationUrl ?? before.formalizationUrl,
      contractNumber: change.contractNumber ?? before.contractNumber,
      version: before.version + (moved ? 1 : 0),
      history: JSON.stringify(history),
      error: change.error === undefined ? before.error : change.error,
      now,
    }
    if (this.#s.update.run(next).changes === 0) return undefined
    return this.get(before.id)
  }

  setKentro (id: string, status: string | null, error: string | null): void {
    this.#s.kentro.run({ id, status, error })
  }
}
