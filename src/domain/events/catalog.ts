/**
 * The events a client receives at CALLBACK_URL, each with an id derived from the change it announces (the same change
 * is the same id, so it is sent once; a redelivery after a crash carries the same id):
 * - `fluxo.concluido`: a CPF's flow reached a result (offer or definitive refusal), whoever ran it;
 * - `lote.concluido`: a batch finished (completed or cancelled) with its counts;
 * - `proposta.status`: a proposal changed status (ids `proposta_<id>_<version>`, queued by the proposals service).
 */
import { createHash } from 'node:crypto'
import type { Batch, ItemCounts } from '../batches/types.js'
import type { FlowRecord } from '../flow/results.js'

export const EVENT_TYPES = ['fluxo.concluido', 'lote.concluido', 'proposta.status'] as const
export type EventType = (typeof EVENT_TYPES)[number]

export interface NewEvent {
  id: string
  type: EventType
  data: Record<string, unknown>
}

const hash = (...parts: Array<string | null | undefined>): string => createHash('sha256').update(parts.map((p) => p ?? '').join('\n')).digest('hex').slice(0, 24)

/** A final flow result: the same consult, outcome and simulation give the same id (a resumed call re-saving it sends nothing). */
export function flowEvent (r: FlowRecord): NewEvent {
  const sim = r.resultado?.simulacao_resultado
  const simId = typeof sim?.['id_simulation'] === 'string' ? sim['id_simulation'] : null
  return {
    id: `fluxo_${hash(r.cpf, r.consultId, r.status, r.code, simId)}`,
    type: 'fluxo.concluido',
    data: {
      cpf: r.cpf,
      status: r.status,
      sucesso: r.status === 'SUCCESS',
      etapa: r.etapa,
      erro: r.code,
      mensagem: r.erro,
      termo_id: r.consultId,
      resultado: r.resultado,
    },
  }
}

export function batchEvent (b: Batch, counts: ItemCounts): NewEvent {
  return {
    id: `lote_${b.id}_${b.status.toLowerCase()}`,
    type: 'lote.concluido',
    data: {
      lote_id: b.id,
      status: b.status,
      origem: b.origin,
      total: counts.total,
      sucessos: counts.success,
      erros: counts.failed,
      cancelados: counts.cancelled,
      created_at: new Date(b.createdAt).toISOString(),
      finished_at: b.finishedAt === null ? null : new Date(b.finishedAt).toISOString(),
    },
  }
}
