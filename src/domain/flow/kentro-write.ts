/** Writing a simulated result back to the Kentro opportunity: caller-supplied fields, value, a description line, tag, stage. */
import type { TenantConfig } from '../config/schema.js'
import type { KentroClient, Opportunity } from '../upstream/kentro.js'
import { FORMS, toBrDate, type Borrower } from './borrower.js'
import { formatBrl } from './message.js'
import type { SimulacaoResultado } from './flow-simulation.js'

/** Lines this service writes into the opportunity description start with this marker (replaced, never piled up). */
export const DESCRIPTION_MARK = '[V8 CLT]'

export function descriptionWith (previous: string | null | undefined, line: string): string {
  const kept = (previous ?? '').split('\n').filter((l) => !l.startsWith(DESCRIPTION_MARK))
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop()
  return [...kept, `${DESCRIPTION_MARK} ${line}`].join('\n')
}

export function simulationLine (sim: SimulacaoResultado, consultId: string, margin: number | null, now: number): string {
  const day = toBrDate(new Date(now).toISOString().slice(0, 10))
  const liberado = sim.valor_liberado !== null ? formatBrl(sim.valor_liberado) : 'valor não informado'
  const marginText = margin !== null ? `, margem ${formatBrl(margin)}` : ''
  return `${day}: liberado ${liberado} em ${sim.numero_parcelas}x de ${formatBrl(sim.valor_parcela)} (termo ${consultId}${marginText})`
}

/**
 * The opportunity update: only fields the caller supplied in dados_cliente are written into the CRM's data (the CRM's own
 * values are left alone); formsdata is sent whole (merged) so a CRM that replaces it loses nothing.
 */
export function opportunityUpdate (opp: Opportunity, b: Borrower, sim: SimulacaoResultado, line: string, config: TenantConfig): Record<string, unknown> {
  const forms: Record<string, unknown> = {}
  if (b.origem.email === 'cliente') forms[FORMS.email] = b.email
  if (b.origem.data_nascimento === 'cliente') forms[FORMS.birthDate] = toBrDate(b.birthDate)
  if (b.origem.telefone === 'cliente') forms[FORMS.mobile] = b.mobile.full
  if (b.origem.sexo === 'cliente') forms[config.KENTRO_GENDER_FIELD] = b.sexo
  const update: Record<string, unknown> = { description: descriptionWith(opp.description, line) }
  if (sim.valor_liberado !== null) update['value'] = sim.valor_liberado
  if (b.origem.nome === 'cliente') update['title'] = b.nome
  if (Object.keys(forms).length > 0) update['formsdata'] = { ...opp.formsdata, ...forms }
  if (config.KENTRO_TAG_ID > 0 && !opp.tags.includes(config.KENTRO_TAG_ID)) update['tags'] = [...opp.tags, config.KENTRO_TAG_ID]
  return update
}

export async function writeBack (
  kentro: Pick<KentroClient, 'updateOpportunity' | 'changeOpportunityStage'>,
  opp: Opportunity,
  b: Borrower,
  sim: SimulacaoResultado,
  margin: number | null,
  config: TenantConfig,
  now: number,
  signal?: AbortSignal
): Promise<void> {
  const line = simulationLine(sim, sim.consult_id, margin, now)
  await kentro.updateOpportunity(opp.id, opportunityUpdate(opp, b, sim, line, config), signal)
  if (opp.fkStage !== config.KENTRO_STAGE_ID) await kentro.changeOpportunityStage(opp.id, config.KENTRO_STAGE_ID, signal)
}
