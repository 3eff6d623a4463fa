/**
 * A proposal's status: V8's 12 operation statuses (lowercase), plus three of ours while V8's id is not known —
 * `criando` (sent, answer awaited), `indefinida` (answer lost, not found by lookup yet), `recusada` (V8 refused it).
 * Which changes are allowed: a final status is never downgraded by a late or repeated event.
 */
import { OPERATION_STATUSES } from '../../upstream/v8-operation-schemas.js'

export const LOCAL_STATUSES = ['criando', 'indefinida', 'recusada', 'sem_confirmacao'] as const
export type LocalStatus = (typeof LOCAL_STATUSES)[number]

/** Finals: nothing moves them, except a refund after payment. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['paid', 'canceled', 'refunded', 'rejected', 'recusada', 'sem_confirmacao'])

/** A proposal still in the works (a second one for the same CPF waits or is the same). */
export function isOpen (status: string): boolean {
  return !FINAL_STATUSES.has(status)
}

/**
 * Whether an event may move a proposal from `from` to `to` (unknown statuses V8 may add are accepted, from non-finals).
 * `generating_ccb` is where every operation starts (operation.created carries it): once V8 has moved on, a late or
 * redelivered "created" must not send the proposal back (a CCB made again would be followed by formalization anyway).
 */
export function canMove (from: string, to: string): boolean {
  if (from === to) return false
  if (from === 'paid') return to === 'refunded'
  if (to === 'generating_ccb') return (LOCAL_STATUSES as readonly string[]).includes(from)
  return !FINAL_STATUSES.has(from)
}

export function isKnownStatus (s: string): boolean {
  return (OPERATION_STATUSES as readonly string[]).includes(s) || (LOCAL_STATUSES as readonly string[]).includes(s)
}

/** What each status means, in the words the tenant's operators and clients read. */
export const STATUS_PT: Readonly<Record<string, string>> = {
  criando: 'proposta enviada à V8, aguardando confirmação',
  indefinida: 'a V8 não confirmou a criação; será procurada antes de qualquer nova tentativa',
  recusada: 'a V8 recusou a proposta',
  sem_confirmacao: 'a V8 não confirmou a criação e ela não foi encontrada',
  generating_ccb: 'gerando a CCB (contrato)',
  formalization: 'aguardando a assinatura do cliente no link de formalização',
  analysis: 'em análise',
  manual_analysis: 'em análise manual',
  awaiting_call: 'aguardando ligação de confirmação da V8',
  processing: 'pagamento em processamento',
  paid: 'paga',
  pending: 'com pendência (dados bancários ou documentos)',
  awaiting_cancel: 'cancelamento em processamento',
  canceled: 'cancelada',
  refunded: 'estornada',
  rejected: 'reprovada na análise final',
}
