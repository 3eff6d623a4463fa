/**
 * A consult's margin and limits. The detail carries `marginBaseValue`, `simulationLimit` and
 * `recommendedSimulationInstallmentValue`; the list row (and the webhook) carry `availableMarginValue`. Either
 * may be all we have, so both are read and, when one kind is missing, the other call fills it.
 */
import type { Consult, V8Client } from '../../upstream/v8.js'

export const FINAL_STATUSES = new Set(['SUCCESS', 'REJECTED', 'FAILED'])

type MarginFields = Pick<Consult, 'availableMarginValue' | 'marginBaseValue'>

function amount (v: string | null | undefined): number | null {
  if (v === null || v === undefined || v.trim() === '') return null
  const n = Number(v.replace(',', '.'))
  return Number.isFinite(n) ? n : null
}

/** The margin: the detail's marginBaseValue, else the list's availableMarginValue; null when neither says. */
export function marginOf (c: MarginFields): number | null {
  return amount(c.marginBaseValue) ?? amount(c.availableMarginValue)
}

/**
 * The installment to ask for when the caller named no amount: the margin, or V8's recommended installment when it
 * is lower (one caller's rule: the recommendation never exceeds what the margin allows).
 */
export function installmentFor (c: MarginFields & Pick<Consult, 'recommendedSimulationInstallmentValue'>): number | null {
  const margin = marginOf(c)
  const recommended = amount(c.recommendedSimulationInstallmentValue)
  if (margin === null) return recommended !== null && recommended > 0 ? recommended : null
  return recommended !== null && recommended > 0 && recommended < margin ? recommended : margin
}

/** SUCCESS, or WAITING_CREDIT_ANALYSIS with a margin > 0 (the older system simulated those too). */
export function isSimulable (c: Pick<Consult, 'status'> & MarginFields): boolean {
  if (c.status === 'SUCCESS') return true
  return c.status === 'WAITING_CREDIT_ANALYSIS' && (marginOf(c) ?? 0) > 0
}

/**
 * The consult with both kinds of margin fields as far as V8 has them: a list row gets the detail's limits and
 * margin base; a detail without any margin gets the list row's availableMarginValue. At most one extra call.
 */
export async function completeMargin (
  v8: Pick<V8Client, 'getConsult' | 'findLatestConsultByCpf'>,
  consult: Consult,
  cpf: string,
  signal?: AbortSignal
): Promise<Consult> {
  // `== null`: a consult known only by its id and status (a reused one) has no margin fields at all.
  if (consult.marginBaseValue == null && !consult.simulationLimit) {
    const detail = await v8.getConsult(consult.id, signal)
    consult = { ...consult, ...detail, availableMarginValue: detail.availableMarginValue ?? consult.availableMarginValue }
  }
  if (marginOf(consult) === null) {
    // The list is searched from the consult's own creation on: an older consult (the older system's) is found too.
    const created = Date.parse(consult.createdAt ?? '')
    const row = await v8.findLatestConsultByCpf(cpf, { signal, ...(Number.isNaN(created) ? {} : { since: created - 60_000 }) })
    if (row?.id === consult.id && row.availableMarginValue !== null) consult = { ...consult, availableMarginValue: row.availableMarginValue }
  }
  return consult
}
