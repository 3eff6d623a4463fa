/** Steps 5–7 of the CLT flow: judge the consult and its margin, simulate (or reuse a simulation), record and write back to the CRM. */
import { maskCpf } from '../../log/mask.js'
import { UpstreamError } from '../../upstream/errors.js'
import { writeBack } from './kentro-write.js'
import { completeMargin, isSimulable, marginOf } from './margin.js'
import { fail, pending, resultOf, save, type Approved, type Next, type Opened, type Run, type Simulated } from './run.js'
import { installmentPlan, simulateFirst, type SimulacaoResultado } from './simulation.js'
import type { FlowOutcome } from './types.js'

/** 5. Rejected or failed → V8's reason; still in progress → pending; approved → its margin (sem_margem when there is none). */
export async function judgeConsult (run: Run, o: Opened): Promise<Next<Approved>> {
  const { consult } = o
  if (consult.status === 'REJECTED') {
    const motivo = consult.description ?? 'sem motivo informado pela V8'
    return fail(run, o, { etapa: 'termo', code: 'termo_recusado', erro: `Termo recusado pela V8: ${motivo}`, extra: { motivo_falha: motivo } })
  }
  if (consult.status === 'FAILED') {
    const motivo = consult.description ?? 'falha técnica na V8'
    return fail(run, o, { etapa: 'termo', code: 'termo_falhou', erro: `A consulta falhou na V8: ${motivo}. Chame novamente para abrir uma nova consulta.`, extra: { motivo_falha: motivo } })
  }
  if (!isSimulable(consult)) return pending(run, o)
  const full = { ...o, consult: await completeMargin(run.deps.v8, consult, run.input.cpf, run.signal) }
  const margin = marginOf(full.consult)
  // Without a known margin only an explicit amount can be simulated.
  if (margin === null ? run.input.amount === undefined : margin <= 0) {
    const motivo = 'sem margem consignável disponível'
    return fail(run, full, { etapa: 'margem', code: 'sem_margem', erro: `O termo foi aprovado, mas o trabalhador está ${motivo}.`, extra: { motivo_falha: motivo } })
  }
  return { ...full, margin }
}

/** 6. A simulation of this consult for this request already held is reused; else the ladder over the tenant's tables. */
export async function simulate (run: Run, a: Approved): Promise<Next<Simulated>> {
  const held = reusableSimulation(run, a)
  if (held) return { ...a, simulacao: held, reused: true }
  const { cache, v8 } = run.deps
  const known = (): Array<Record<string, unknown> | null | undefined> => [run.previous?.resultado?.simulacao_resultado, cache.get(run.input.cpf)?.dadosSimulacao]
  const r = await simulateFirst(v8, a.consult, {
    counts: installmentPlan(run.input.installments),
    amount: run.input.amount,
    tables: run.config.V8_SIMULATION_TABLE,
    now: run.now,
    signal: run.signal,
    known,
  })
  if (r.ok) return { ...a, simulacao: r.simulacao, reused: false }
  return fail(run, a, { etapa: 'simulacao', code: r.code, erro: `Não foi possível simular: ${r.motivo}.`, details: { tentativas: r.tentativas }, extra: { motivo_falha: r.motivo } })
}

function reusableSimulation (run: Run, a: Approved): SimulacaoResultado | null {
  const p = run.previous
  const sim = p?.resultado?.simulacao_resultado
  if (!p || p.status !== 'SUCCESS' || p.consultId !== a.consult.id || !sim) return null
  const asked = run.input
  const before = p.request
  if (asked.installments !== before.installments || asked.amount?.kind !== before.amount?.kind || asked.amount?.value !== before.amount?.value) return null
  if (run.now() - p.updatedAt > run.config.CACHE_TTL_HOURS * 3_600_000) return null
  return sim as SimulacaoResultado
}

/**
 * 7. The offer is cached and recorded before the CRM write, so a failed write is retried by the next call without
 * a new simulation; then the opportunity gets the result (once per simulation).
 */
export async function finish (run: Run, s: Simulated): Promise<FlowOutcome> {
  const b = s.borrower
  run.deps.cache.save({
    cpf: run.input.cpf,
    consultId: s.consult.id,
    dadosSimulacao: s.simulacao,
    dadosCliente: { nome: b.name, telefone: b.mobile.full, email: b.email, data_nascimento: b.birthDate, oportunidade_id: s.opp?.id ?? null },
  })
  const resultado = resultOf(s, { sucesso: true, simulacao_resultado: s.simulacao })
  const synced = s.reused && run.previous?.kentroSynced === true
  save(run, s, 'SUCCESS', 'kentro_retorno', { resultado, kentroSynced: synced || s.opp === null })
  let answer: FlowOutcome = { kind: 'success', etapa: 'concluido', resultado }
  if (s.opp && !synced) {
    try {
      await writeBack(run.deps.kentro, { opp: s.opp, borrower: b, simulacao: s.simulacao, margin: s.margin, config: run.config, now: run.now(), signal: run.signal })
      save(run, s, 'SUCCESS', 'concluido', { resultado, kentroSynced: true })
    } catch (err) {
      // Trouble that may pass (5xx, timeouts, 429) goes up: the next call writes again, without a new simulation.
      // A refusal (an unknown stage, a removed opportunity, a key without rights) will not pass by retrying: the
      // offer stands, the refusal is logged, kept with the result and said in the answer (the CRM does not show
      // the offer, so the caller must know), and the next call tries the write again.
      if (!(err instanceof UpstreamError) || err.upstream !== 'Kentro' || err.transient) throw err
      run.deps.logger.warn({ cpf: maskCpf(run.input.cpf), opportunity: s.opp.id, code: err.code }, 'clt flow: CRM write-back refused; the offer stands')
      const refused = { ...resultado, kentro_recusa: { codigo: err.code, motivo: err.message } }
      save(run, s, 'SUCCESS', 'kentro_retorno', { resultado: refused, kentroSynced: false, details: { kentro_recusou: err.code, motivo: err.message } })
      answer = { kind: 'success', etapa: 'kentro_retorno', resultado: refused }
    }
  }
  run.deps.logger.info({ cpf: maskCpf(run.input.cpf), consult: s.consult.id, parcelas: s.simulacao.numero_parcelas, reused: s.reused }, 'clt flow: simulated')
  return answer
}
