/**
 * Writing a simulated result back to the Kentro opportunity: the data the CRM lacked (from the request or V8),
 * the value, a description line that says where the data came from, the tag and the stage.
 */
import { stageOfPipeline, type TenantConfig } from '../../config/schema.js'
import { FORM_KEYS, type KentroClient, type Opportunity, type OpportunityChanges } from '../../upstream/kentro.js'
import { toBrDate, type Borrower, type Field, type Source } from '../borrower.js'
import { formatBrl } from '../message.js'
import type { SimulacaoResultado } from './simulation.js'

/** Lines this service writes into the opportunity description start with this marker (replaced, never piled up). */
export const DESCRIPTION_MARK = '[V8 CLT]'

const SOURCE_PT: Record<Exclude<Source, 'kentro'>, string> = { request: 'requisição', v8: 'V8', tenant_default: 'padrão do tenant' }

export function descriptionWith (previous: string | null | undefined, line: string): string {
  const kept = (previous ?? '').split('\n').filter((l) => !l.startsWith(DESCRIPTION_MARK))
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop()
  return [...kept, `${DESCRIPTION_MARK} ${line}`].join('\n')
}

export function simulationLine (sim: SimulacaoResultado, b: Borrower, margin: number | null, now: number): string {
  const day = toBrDate(new Date(now).toISOString().slice(0, 10))
  const liberado = sim.valor_liberado !== null ? formatBrl(sim.valor_liberado) : 'valor não informado'
  const marginText = margin !== null ? `, margem ${formatBrl(margin)}` : ''
  const notFromCrm = (Object.entries(b.sources) as Array<[Field, Source]>).filter(([, s]) => s !== 'kentro')
  const sources = notFromCrm.length > 0 ? `; dados de fora do CRM: ${notFromCrm.map(([f, s]) => `${f}=${SOURCE_PT[s as Exclude<Source, 'kentro'>]}`).join(', ')}` : ''
  return `${day}: liberado ${liberado} em ${sim.numero_parcelas}x de ${formatBrl(sim.valor_parcela)} (termo ${sim.consult_id}${marginText}; tabela ${sim.tabela}${sources})`
}

/**
 * The opportunity changes. Fields the CRM lacked and the request or V8 supplied are written into the CRM's data
 * (the CRM's own values are left alone; a tenant default is never written: it is not the person's data).
 * `value` is an integer in centavos, as the vendor's spec says and a caller measured (R$ 1.500,50 → 150050).
 */
export function opportunityChanges (opp: Opportunity, b: Borrower, sim: SimulacaoResultado, line: string, config: TenantConfig): OpportunityChanges {
  const learned = (f: Field): boolean => b.sources[f] === 'request' || b.sources[f] === 'v8'
  const forms: Record<string, string> = {}
  if (learned('email')) forms[FORM_KEYS.email] = b.email
  if (learned('data_nascimento')) forms[FORM_KEYS.birthDate] = toBrDate(b.birthDate)
  if (learned('telefone')) forms[FORM_KEYS.mobile] = b.mobile.full
  if (learned('sexo') && config.KENTRO_GENDER_FIELD) forms[config.KENTRO_GENDER_FIELD] = b.gender
  const fields: Record<string, unknown> = { description: descriptionWith(opp.description, line) }
  if (sim.valor_liberado !== null) fields['value'] = Math.round(sim.valor_liberado * 100)
  if (learned('nome')) fields['title'] = b.name
  return {
    fields,
    ...(Object.keys(forms).length > 0 ? { formsdata: forms } : {}),
    ...(config.KENTRO_TAG_ID > 0 ? { addTags: [config.KENTRO_TAG_ID] } : {}),
  }
}

export async function writeBack (
  kentro: Pick<KentroClient, 'mergeIntoOpportunity' | 'changeOpportunityStage'>,
  w: { opp: Opportunity; borrower: Borrower; simulacao: SimulacaoResultado; margin: number | null; config: TenantConfig; now: number; signal?: AbortSignal | undefined }
): Promise<void> {
  const line = simulationLine(w.simulacao, w.borrower, w.margin, w.now)
  await kentro.mergeIntoOpportunity(w.opp.id, opportunityChanges(w.opp, w.borrower, w.simulacao, line, w.config), w.signal)
  const stage = simulatedStage(w.config, w.opp.fkPipeline)
  if (stage > 0 && w.opp.fkStage !== stage) await kentro.changeOpportunityStage(w.opp.id, stage, w.signal)
}

/** The stage marking an opportunity of `pipeline` as simulated (0: none); stages belong to one pipeline each. */
export function simulatedStage (config: TenantConfig, pipeline: number | null | undefined): number {
  return (pipeline != null ? stageOfPipeline(config, pipeline) : undefined) ?? config.KENTRO_STAGE_ID
}
