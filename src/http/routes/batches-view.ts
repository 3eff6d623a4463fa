/** JSON shapes of batches and items in the API (Portuguese field names, ISO dates). */
import type { Batch, BatchItem, ItemCounts } from '../../domain/batches/types.js'

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

/** Counts of a batch; processados = sucessos + erros, and every item is in exactly one count. */
export function countsView (c: ItemCounts): Record<string, number> {
  return {
    total: c.total,
    processados: c.success + c.failed,
    sucessos: c.success,
    erros: c.failed,
    cancelados: c.cancelled,
    pendentes: c.pending,
    em_andamento: c.running,
  }
}

export function batchView (b: Batch, c: ItemCounts): Record<string, unknown> {
  return {
    lote_id: b.id,
    status: b.status,
    origem: b.origin,
    banco: b.params.banco ?? 'v8',
    parametros: {
      ...(b.params.amount ? { [b.params.amount.kind === 'installment' ? 'valor_parcela' : 'valor_liberado']: b.params.amount.value } : {}),
      ...(b.params.installments !== undefined ? { prazo: b.params.installments } : {}),
      ...(b.params.pipeline_id !== undefined ? { pipeline_id: b.params.pipeline_id } : {}),
      ...(b.params.repete_lote !== undefined ? { repete_lote: b.params.repete_lote } : {}),
    },
    ...countsView(c),
    created_at: iso(b.createdAt),
    started_at: iso(b.startedAt),
    finished_at: iso(b.finishedAt),
  }
}

export function itemView (i: BatchItem): Record<string, unknown> {
  return {
    cpf: i.cpf,
    status: i.status,
    etapa: i.etapa,
    ...(i.erro !== null ? { erro: i.erro } : {}),
    ...(i.mensagem !== null ? { mensagem: i.mensagem } : {}),
    ...(i.resultado !== null ? { resultado: i.resultado } : {}),
    tentativas: i.attempts,
    finished_at: iso(i.finishedAt),
  }
}
