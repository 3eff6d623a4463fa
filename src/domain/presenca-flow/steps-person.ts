/**
 * Step 1 of the PresençaBank flow: who the term is for. A term needs the person's name and their own mobile; each
 * comes from the first source that has a valid one (the request's dados_cliente, the CRM opportunity, what V8 knows).
 * Nothing is invented: what no source has is a 422 dados_faltantes listing the fields.
 */
import { v8Configured } from '../../config/schema.js'
import { kentroValues, resolveFields, v8Values, type Field, type Source, type SourceValues } from '../borrower.js'
import type { Origem } from '../flow/types.js'
import type { Mobile } from '../phone.js'
import { fail, type Identified, type Next, type Person, type Run } from './run.js'

const FIELDS: readonly Field[] = ['nome', 'telefone']
const ORIGEM: Record<Source, Origem> = { request: 'requisicao', kentro: 'kentro', v8: 'v8', tenant_default: 'padrao_tenant' }

/** The person as the previous run recorded them, when a term exists already (a resume needs no new lookup). */
function recorded (run: Run): Person | undefined {
  const d = run.previous?.resultado.dados_validados
  if (!d) return undefined
  const { cpf: _cpf, ...origem } = d.origem
  return { nome: d.nome, telefone: d.telefone, origem, oportunidadeId: run.previous?.resultado.oportunidade_id ?? null }
}

/** 1. The name and mobile for the term: recorded ones on a resume, else request → CRM → V8. */
export async function identify (run: Run): Promise<Next<Identified>> {
  const term = run.deps.store.term(run.input.cpf)
  const known = recorded(run)
  if (term?.autorizacaoId && known) return { person: known, term }
  const { cpf, supplied } = run.input
  const opp = run.deps.kentro.configured ? await run.deps.kentro.findOpportunityByCpf(cpf, run.signal, run.input.pipelines) : undefined
  const request: SourceValues = { source: 'request', values: supplied ?? {}, strict: true }
  const crm = kentroValues(opp ?? null, '')
  let v = resolveFields({ sources: [request, crm], now: run.now(), fields: FIELDS })
  // Asking V8 helps only when something is missing that is not the caller's own invalid value.
  if (!v.ok && !v.campos.every((c) => v.ok === false && v.motivos[c]?.endsWith('(em dados_cliente)')) && v8Configured(run.config)) {
    const knownByV8 = await run.deps.v8.clientData(cpf, run.signal)
    v = resolveFields({ sources: [request, crm, v8Values(knownByV8)], now: run.now(), fields: FIELDS })
  }
  if (!v.ok) {
    const failed = v
    const list = failed.campos.map((c) => `${c} (${failed.motivos[c]})`).join(', ')
    const where = run.deps.kentro.configured ? (opp ? '' : ' Não há oportunidade aberta com este CPF no Kentro.') : ' O Kentro não está configurado nesta porta.'
    return fail(run, { term }, {
      etapa: 'validando_dados',
      code: 'dados_faltantes',
      erro: `Dados obrigatórios para o termo do PresençaBank ausentes ou inválidos: ${list}. Envie-os em dados_cliente (o celular deve ser do próprio cliente).${where}`,
      details: { campos: failed.campos, motivos: failed.motivos },
    })
  }
  const origem = Object.fromEntries(Object.entries(v.sources).map(([f, s]) => [f, ORIGEM[s]]))
  const person: Person = { nome: v.values.nome as string, telefone: (v.values.telefone as Mobile).full, origem, oportunidadeId: opp?.id ?? null }
  return { person, term }
}
