/** Steps 1–2 of the CLT flow: the CRM opportunity, then the borrower's data from the request, the CRM, V8 and the tenant's default. */
import { pipelinesToSearch } from '../../upstream/kentro.js'
import { kentroValues, resolveBorrower, v8Values, type SourceValues, type Validation } from '../borrower.js'
import { fail, type Found, type Gathered, type Next, type Run } from './run.js'
import { VALIDATION_STEP } from './types.js'

/** 1. The open opportunity holding the CPF (a tenant without Kentro relies on the request and V8 alone). */
export async function findOpportunity (run: Run): Promise<Next<Found>> {
  const { kentro } = run.deps
  if (!kentro.configured) return { opp: null }
  const opp = await kentro.findOpportunityByCpf(run.input.cpf, run.signal, run.input.pipelines)
  if (opp) return { opp }
  const pipelines = pipelinesToSearch(run.config, run.input.pipelines)
  return fail(run, { opp: null }, {
    etapa: 'kentro',
    code: 'oportunidade_nao_encontrada',
    erro: `Nenhuma oportunidade aberta com este CPF nos funis ${pipelines.join(', ')} do Kentro.`,
  })
}

/**
 * 2. The borrower's data, each field from the first source that has a valid value: the request (`dados_cliente`),
 * the CRM, what V8 knows of the person (`client-data/basic`, asked only when something is still missing), and for
 * the gender the tenant's declared default (DEFAULT_GENDER). Whatever no source has is a 422 listing the fields.
 */
export async function gatherBorrower (run: Run, found: Found): Promise<Next<Gathered>> {
  const { cpf, supplied } = run.input
  const request: SourceValues = { source: 'request', values: supplied ?? {}, strict: true }
  const crm = kentroValues(found.opp, run.config.KENTRO_GENDER_FIELD)
  const tenant: SourceValues = { source: 'tenant_default', values: { sexo: run.config.DEFAULT_GENDER } }
  let v = resolveBorrower({ cpf, sources: [request, crm], now: run.now() })
  if (!v.ok && !onlyCallerErrors(v)) {
    const known = await run.deps.v8.clientData(cpf, run.signal)
    v = resolveBorrower({ cpf, sources: [request, crm, v8Values(known), tenant], now: run.now() })
  }
  if (v.ok) return { ...found, borrower: v.borrower }
  const list = v.campos.map((c) => `${c} (${v.motivos[c]})`).join(', ')
  const noCrm = run.deps.kentro.configured ? '' : ' O Kentro não está configurado nesta porta.'
  const gender = v.campos.includes('sexo') ? ' Para o sexo, o tenant também pode declarar um padrão (DEFAULT_GENDER).' : ''
  return fail(run, found, {
    etapa: VALIDATION_STEP,
    code: 'dados_faltantes',
    erro: `Dados obrigatórios ausentes ou inválidos: ${list}. Envie-os em dados_cliente.${noCrm}${gender}`,
    details: { campos: v.campos, motivos: v.motivos, ...(run.deps.kentro.configured ? {} : { kentro_configurado: false }) },
  })
}

/** Only the caller's own values are wrong: asking V8 would not change the answer. */
function onlyCallerErrors (v: Extract<Validation, { ok: false }>): boolean {
  return v.campos.every((c) => v.motivos[c]?.endsWith('(em dados_cliente)'))
}
