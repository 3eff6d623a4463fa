/** What the two flow routes (V8's fluxo-completo and PresençaBank's) read from a request and answer alike. */
import { AppError } from '../../errors.js'
import type { FlowInput, FlowOutcome } from '../../domain/flow/types.js'

/** The caller's `dados_cliente` as a flow takes it: the fields given, as text; nothing when none was given. */
export function suppliedOf (dados: Record<string, string | number | null | undefined> | null | undefined): Pick<FlowInput, 'supplied'> {
  const supplied = Object.fromEntries(Object.entries(dados ?? {}).filter(([, v]) => v != null).map(([k, v]) => [k, String(v)]))
  return Object.keys(supplied).length > 0 ? { supplied } : {}
}

/**
 * A pending answer's wait in whole seconds, for its `Retry-After` header and its message alike: rounded up, and
 * never 0 (which would ask a bot to call again at once).
 */
export function retryAfterSeconds (retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000))
}

/**
 * A failed outcome's verdict, a result the caller acts on (a rejected consult, no margin); a failure that is a problem
 * with the request or the CPF's data is thrown in the error shape instead, with `errorStatus[code]` (else 422).
 */
export function verdictOf<R> (outcome: Extract<FlowOutcome<R>, { kind: 'failed' }>, errorStatus: Record<string, number>): R {
  const status = errorStatus[outcome.code]
  if (status !== undefined || !outcome.resultado) throw new AppError(outcome.code, outcome.erro, status ?? 422, outcome.details)
  return outcome.resultado
}
