/**
 * Steps 2–3 of the PresençaBank flow: the CPF's consult term (the stored one, else created once: a creation whose
 * answer was lost is never repeated blindly, the CPF's links are checked first) and its signature (the PUT the
 * signing page sends; refused → the client signs through the link).
 */
import { maskCpf } from '../../log/mask.js'
import { UpstreamError } from '../../upstream/errors.js'
import { PacingWait } from '../../upstream/presenca.js'
import type { TermRecord } from './store.js'
import { callOpts, fail, progress, type Identified, type Next, type Run, type Termed } from './run.js'

function emptyTerm (cpf: string, now: number): TermRecord {
  return { cpf, autorizacaoId: null, shortUrl: null, telefone: null, createdAt: null, createTriedAt: null, signedAt: null, signature: 'pendente', signError: null, authorizedAt: null, updatedAt: now }
}

/**
 * 2. The term to work with. A stored one is reused. After a creation whose answer was lost (it may exist, and
 * PresençaBank cannot look terms up) the links are asked first: if they answer, the CPF is authorized already.
 */
export async function openTerm (run: Run, s: Identified): Promise<Next<Termed>> {
  const stored = s.term
  if (stored?.autorizacaoId) return { ...s, term: stored }
  if (stored?.createTriedAt) {
    try {
      const vinculos = await run.deps.presenca.vinculos(run.input.cpf, callOpts(run))
      run.deps.logger.info({ cpf: maskCpf(run.input.cpf) }, 'presencabank flow: links answer after a lost term creation; no new term')
      return { ...s, term: stored, vinculos }
    } catch (err) {
      if (!(err instanceof UpstreamError && err.code === 'presencabank_termo_nao_autorizado')) throw err
    }
  }
  return createTerm(run, s)
}

/** A new term for the person, its attempt recorded before the call (a crash mid-call is then checked, not repeated blindly). */
export async function createTerm (run: Run, s: Identified): Promise<Next<Termed>> {
  const { store, presenca } = run.deps
  const cpf = run.input.cpf
  progress(run, s, 'gerando_termo')
  const tried: TermRecord = { ...emptyTerm(cpf, run.now()), telefone: s.person.telefone, createTriedAt: run.now() }
  store.saveTerm(tried)
  try {
    const t = await presenca.createTerm({ cpf, nome: s.person.nome, telefone: s.person.telefone }, callOpts(run))
    const term: TermRecord = { ...tried, autorizacaoId: t.autorizacaoId, shortUrl: t.shortUrl, createdAt: run.now(), updatedAt: run.now() }
    store.saveTerm(term)
    run.deps.logger.info({ cpf: maskCpf(cpf), term: t.autorizacaoId }, 'presencabank flow: term created')
    return { ...s, term }
  } catch (err) {
    // Surely not created (refused, never sent): forget the attempt. A lost answer keeps it, to be checked next time.
    const ambiguous = err instanceof UpstreamError ? err.ambiguous : !(err instanceof PacingWait)
    if (!ambiguous) store.saveTerm({ ...tried, createTriedAt: null, updatedAt: run.now() })
    if (!(err instanceof UpstreamError) || err.statusCode !== 422) throw err
    const motivo = String(err.details?.['motivo'] ?? err.message)
    if (err.code === 'presencabank_telefone_em_uso') {
      return fail(run, s, {
        etapa: 'gerando_termo',
        code: 'telefone_em_uso',
        erro: `O PresençaBank recusou o telefone ${s.person.telefone}: já foi usado em termo de outro cliente. Envie o celular do próprio cliente em dados_cliente.telefone.`,
        details: { campos: ['telefone'], motivo },
      })
    }
    return fail(run, s, { etapa: 'gerando_termo', code: 'termo_nao_criado', erro: `O PresençaBank recusou criar o termo: ${motivo}`, details: { tipo: err.code, motivo } })
  }
}

/**
 * 3. Sign the term the way its page does (PUT with device information). Done once: a signed (or known-500) term is
 * not signed again; a refusal leaves it to the client's link; an unanswered call is tried again on the next run.
 */
export async function signTerm (run: Run, s: Termed): Promise<Termed> {
  const t = s.term
  if (!t.autorizacaoId || s.vinculos || t.authorizedAt !== null || t.signature === 'assinado' || t.signature === 'erro_conhecido' || t.signature === 'recusada') return s
  progress(run, s, 'assinando_termo')
  let term: TermRecord
  try {
    const result = await run.deps.presenca.signTerm(t.autorizacaoId, callOpts(run))
    term = { ...t, signature: result, signedAt: run.now(), signError: null, updatedAt: run.now() }
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err
    if (err.code === 'presencabank_assinatura_recusada') term = { ...t, signature: 'recusada', signError: String(err.details?.['motivo'] ?? err.message), updatedAt: run.now() }
    else if (err.transient) term = { ...t, signature: 'incerta', signError: err.message, updatedAt: run.now() }
    else throw err
  }
  run.deps.store.saveTerm(term)
  run.deps.logger.info({ cpf: maskCpf(run.input.cpf), term: t.autorizacaoId, signature: term.signature }, 'presencabank flow: term signing')
  return { ...s, term }
}
