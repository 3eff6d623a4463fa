/** What an item came to, in the words a broker uses (offer, refused, no margin, waiting at the bank, error), and the time left. */
import type { ItemStatus } from './types.js'

export type Outcome = 'oferta' | 'recusado' | 'sem_margem' | 'aguardando' | 'erro' | 'cancelado' | 'na_fila' | 'em_andamento'

/** Labels for the results file and the page. */
export const OUTCOME_PT: Record<Outcome, string> = {
  oferta: 'oferta',
  recusado: 'recusado',
  sem_margem: 'sem margem',
  aguardando: 'aguardando o banco',
  erro: 'erro',
  cancelado: 'cancelado',
  na_fila: 'na fila',
  em_andamento: 'em andamento',
}

/** The bank said no (its reason is in the item's message). */
const REFUSALS = new Set(['termo_recusado', 'termo_nao_criado', 'simulacao_recusada', 'prazo_indisponivel', 'nao_elegivel', 'sem_vinculo', 'consulta_sem_resposta'])
const NO_MARGIN = new Set(['sem_margem'])
/** The step of an item put back because an upstream was down or limited us: it waits for its turn again, not at the bank. */
export const UPSTREAM_RETRY_STEP = 'aguardando_upstream'

/** A pending item that has run once and was put back by the flow (a consult, a signature) waits at the bank. */
export const waitsAtBank = (status: ItemStatus, etapa: string | null): boolean => status === 'PENDING' && etapa !== null && etapa !== UPSTREAM_RETRY_STEP

/** `waitsAtBank` over batch_items' columns, for a WHERE clause. */
export const WAITS_AT_BANK_SQL = `(status = 'PENDING' AND etapa IS NOT NULL AND etapa <> '${UPSTREAM_RETRY_STEP}')`

export function outcomeOf (status: ItemStatus, erro: string | null, etapa: string | null): Outcome {
  switch (status) {
    case 'SUCCESS':
      return 'oferta'
    case 'CANCELLED':
      return 'cancelado'
    case 'RUNNING':
      return 'em_andamento'
    case 'PENDING':
      return waitsAtBank(status, etapa) ? 'aguardando' : 'na_fila'
    case 'FAILED':
      if (erro !== null && NO_MARGIN.has(erro)) return 'sem_margem'
      if (erro !== null && REFUSALS.has(erro)) return 'recusado'
      return 'erro'
  }
}

export type OutcomeCounts = Record<Outcome, number>

export const emptyOutcomes = (): OutcomeCounts => ({ oferta: 0, recusado: 0, sem_margem: 0, aguardando: 0, erro: 0, cancelado: 0, na_fila: 0, em_andamento: 0 })

/** What the estimate is computed from (BatchSheets.stats reads it from the items). */
export interface PaceInput {
  now: number
  /** Items finished (SUCCESS/FAILED, validation failures excluded) and when: the last ones, oldest first. */
  recentFinishes: number[]
  /** Items running or waiting for their turn (never run yet, or put back after an upstream failure). */
  queued: number
  /** Items waiting at the bank, each with how long it has waited since its first run. */
  waitingSince: number[]
  /** How long items that had to wait at the bank took from first run to end (the finished ones). */
  waitDurations: number[]
}

export interface Pace {
  /** Items finished per minute over the recent window; null until there is enough to say. */
  porMinuto: number | null
  /** Seconds until every item is done, rounded; null when unknown. */
  restanteS: number | null
}

const WINDOW_MS = 120_000

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/**
 * Throughput over the last two minutes of finishes, and the time left: the queue at that pace, or the time the
 * items waiting at the bank still need (a typical wait, from the ones that finished, minus what they waited so
 * far), whichever is longer; the two overlap, as workers go on with the queue while consults are pending.
 */
export function pace (p: PaceInput): Pace {
  const inWindow = p.recentFinishes.filter((t) => t >= p.now - WINDOW_MS)
  let porMinuto: number | null = null
  if (inWindow.length >= 2) {
    const span = Math.max(p.now - inWindow[0]!, 5_000)
    porMinuto = Math.round((inWindow.length / span) * 600_000) / 10
  }
  if (p.queued === 0 && p.waitingSince.length === 0) return { porMinuto, restanteS: 0 }
  let queueS: number | null = null
  if (p.queued > 0) queueS = porMinuto !== null && porMinuto > 0 ? (p.queued / porMinuto) * 60 : null
  let waitS: number | null = 0
  if (p.waitingSince.length > 0) {
    if (p.waitDurations.length === 0) waitS = null
    else {
      const typical = median(p.waitDurations)
      // The longest still-needed wait among the waiting items, at least a little (one more poll).
      waitS = Math.max(...p.waitingSince.map((w) => Math.max(typical - w, 5_000))) / 1000
    }
  }
  if (queueS === null && p.queued > 0) return { porMinuto, restanteS: null }
  if (waitS === null) return { porMinuto, restanteS: null }
  const total = Math.max(queueS ?? 0, waitS)
  // Rounded so a stream of progress events does not change every second for noise.
  return { porMinuto, restanteS: Math.ceil(total / 5) * 5 }
}
