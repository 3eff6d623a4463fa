/**
 * Steps 4–5 of the PresençaBank flow: wait (bounded) until PresençaBank accepts the term and lists the CPF's
 * employment links, then read the margin of the eligible ones and judge: eligible with margin, eligible without
 * margin, not eligible, no links.
 */
import { maskCpf } from '../../log/mask.js'
import { UpstreamError } from '../../upstream/errors.js'
import type { Margem, Vinculo } from '../../upstream/presenca.js'
import { formatBrl } from '../message.js'
import { callOpts, fail, pending, progress, resultOf, save, type Done, type Linked, type Next, type Run, type Termed } from './run.js'
import { createTerm, signTerm } from './steps-term.js'
import type { PresencaOutcome } from './types.js'

/** At most this many eligible links get their margin read (each read is a paced call). */
const MAX_LINKS = 3

/**
 * 4. The CPF's links. There is no term-status call: the links are asked until they answer (a signed term shows up
 * after seconds to tens of seconds) or the deadline passes (pending). A term that worked before and is refused now
 * has expired: one new term is made. "CPF não encontrado" is not eligible; "virada de competência" means days.
 */
export async function awaitLinks (run: Run, start: Termed): Promise<Next<Linked>> {
  if (start.vinculos) return { ...start, vinculos: start.vinculos }
  let s = start
  let renewed = false
  let delay = run.poll.firstMs
  progress(run, s, 'consultando_vinculos')
  for (;;) {
    try {
      const vinculos = await run.deps.presenca.vinculos(run.input.cpf, callOpts(run))
      if (s.term.authorizedAt === null && s.term.autorizacaoId) {
        s = { ...s, term: { ...s.term, authorizedAt: run.now(), updatedAt: run.now() } }
        run.deps.store.saveTerm(s.term)
      }
      return { ...s, vinculos }
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err
      if (err.code === 'presencabank_cpf_nao_encontrado') {
        return fail(run, s, { etapa: 'consultando_vinculos', code: 'nao_elegivel', erro: `Não elegível no PresençaBank: ${String(err.details?.['motivo'] ?? err.message)}.`, extra: { elegivel: false } })
      }
      if (err.code === 'presencabank_virada_de_folha') {
        return fail(run, s, { etapa: 'consultando_vinculos', code: 'virada_de_folha', erro: 'O PresençaBank está na virada de competência da folha (Crédito do Trabalhador): consulte este CPF de novo em alguns dias.' })
      }
      if (err.code !== 'presencabank_termo_nao_autorizado') throw err
    }
    if (s.term.authorizedAt !== null && !renewed) {
      // It answered with this term before: the authorization has expired. One new term, signed like the first.
      run.deps.logger.info({ cpf: maskCpf(run.input.cpf), term: s.term.autorizacaoId }, 'presencabank flow: authorization expired; new term')
      renewed = true
      const created = await createTerm(run, s)
      if (!('term' in created)) return created
      s = await signTerm(run, created)
      progress(run, s, 'consultando_vinculos')
      continue
    }
    const left = run.deadline - run.now()
    if (left <= 0) return waitingForTerm(run, s)
    await run.sleep(Math.min(delay, left), run.signal)
    delay = Math.min(delay * run.poll.factor, run.poll.maxMs)
  }
}

/** Pending: signed by us and not accepted yet, or waiting for the client to sign through the link. */
function waitingForTerm (run: Run, s: Termed): Done {
  const byLink = s.term.signature === 'recusada' || s.term.signature === 'pendente'
  return pending(run, s, byLink ? 'aguardando_assinatura' : 'aguardando_autorizacao')
}

/** 5. The margin of the eligible links (the best one is reported) and the verdict. */
export async function judgeLinks (run: Run, s: Linked): Promise<PresencaOutcome | Done> {
  if (s.vinculos.length === 0) {
    return fail(run, s, { etapa: 'consultando_vinculos', code: 'sem_vinculo', erro: 'O PresençaBank não encontrou vínculo empregatício (CLT) para este CPF.', extra: { elegivel: false } })
  }
  const eligible = s.vinculos.filter((v) => v.elegivel !== false)
  if (eligible.length === 0) {
    return fail(run, s, { etapa: 'consultando_vinculos', code: 'nao_elegivel', erro: `Nenhum dos ${s.vinculos.length} vínculos do CPF é elegível ao consignado CLT no PresençaBank.`, extra: { elegivel: false } })
  }
  progress(run, s, 'consultando_margem')
  let best: { vinculo: Vinculo; margem: Margem } | undefined
  for (const vinculo of eligible.slice(0, MAX_LINKS)) {
    const margem = await readMargin(run, vinculo)
    if (!best || margem.disponivel > best.margem.disponivel) best = { vinculo, margem }
  }
  const k = { ...s, vinculo: best!.vinculo, margem: best!.margem }
  if (best!.margem.disponivel <= 0) {
    const valor = formatBrl(best!.margem.disponivel)
    return fail(run, k, { etapa: 'consultando_margem', code: 'sem_margem', erro: `Elegível no PresençaBank, mas sem margem consignável disponível (margem ${valor}).`, extra: { elegivel: true } })
  }
  const resultado = resultOf(run, k, 'finalizado', { sucesso: true, elegivel: true })
  save(run, k, 'SUCCESS', 'finalizado', { resultado })
  run.deps.logger.info({ cpf: maskCpf(run.input.cpf), links: s.vinculos.length, form: best!.margem.formato }, 'presencabank flow: margin read')
  return { kind: 'success', etapa: 'finalizado', resultado }
}

/** One link's margin; the known all-zero glitch is asked once more after a pause before it goes up (503). */
async function readMargin (run: Run, v: Vinculo): Promise<Margem> {
  const ask = (): Promise<Margem> => run.deps.presenca.margem({ cpf: run.input.cpf, matricula: v.matricula, cnpj: v.numeroInscricaoEmpregador }, callOpts(run))
  try {
    return await ask()
  } catch (err) {
    if (!(err instanceof UpstreamError && err.code === 'presencabank_margem_indisponivel')) throw err
    await run.sleep(run.poll.firstMs, run.signal)
    return ask()
  }
}
