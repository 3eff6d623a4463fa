/**
 * Steps 3–4 of the CLT flow: the CPF's V8 consult (resumed, or created at most once), then authorize and wait for it,
 * with one new consult when V8 refused the birth date and the CRM has corrected it since.
 */
import { maskCpf } from '../../log/mask.js'
import { UpstreamError } from '../../upstream/errors.js'
import { FORM_KEYS } from '../../upstream/kentro.js'
import type { Consult } from '../../upstream/v8.js'
import { checkBirthDate } from '../borrower.js'
import { FINAL_STATUSES, isSimulable } from './margin.js'
import { Done, fail, resultOf, save, type Gathered, type Next, type Opened, type Run } from './run.js'

/** V8's reason when the birth date sent does not match the worker's records. */
export function isBirthDateRejection (description: string | null | undefined): boolean {
  const d = (description ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
  return d.includes('nascimento') || d.includes('birth')
}

/** 3. The consult to work on: the CPF's existing one when it can go on, else a new one (created once). */
export async function openConsult (run: Run, g: Gathered): Promise<Next<Opened>> {
  const existing = await existingConsult(run)
  const ours = existing && existing.id === run.previous?.consultId ? (run.previous?.birthDateUsed ?? null) : null
  // A birth-date rejection of a consult we have no record of (the older system's): V8's detail says what it was sent.
  const birthRejected = existing?.status === 'REJECTED' && isBirthDateRejection(existing.description)
  const birthDateUsed = ours ?? (existing && birthRejected ? await sentBirthDate(run, existing) : null)
  const opened = { ...g, birthDateUsed, retried: false, rejectedAtStart: existing?.status === 'REJECTED' }
  if (existing && existing.status === 'REJECTED' && isBirthDateRejection(existing.description) && birthDateUsed !== null && birthDateUsed !== g.borrower.birthDate) {
    run.deps.logger.info({ cpf: maskCpf(run.input.cpf), consult: existing.id }, 'clt flow: birth date corrected since the rejection; new consult')
    return createConsult(run, { ...opened, retried: true })
  }
  // A technical failure at V8 ends that consult; a new one is the only way forward.
  if (!existing || existing.status === 'FAILED') return createConsult(run, opened)
  return { ...opened, consult: existing }
}

/** The birth date a consult was created with, from V8's detail (YYYY-MM-DD), or null when V8 does not say. */
async function sentBirthDate (run: Run, c: Consult): Promise<string | null> {
  const raw = c.birthDate ?? (await run.deps.v8.getConsult(c.id, run.signal)).birthDate
  const r = checkBirthDate(raw, run.now())
  return r.ok ? r.value : null
}

/** The one this service last used, else the CPF's newest at V8 (an ended one of ours may have been followed by another). */
async function existingConsult (run: Run): Promise<Consult | undefined> {
  const prevId = run.previous?.consultId
  let consult: Consult | undefined
  if (prevId) {
    try {
      consult = await run.deps.v8.getConsult(prevId, run.signal)
    } catch (err) {
      if (!(err instanceof UpstreamError && err.statusCode === 404)) throw err
    }
  }
  if (!consult || consult.status === 'REJECTED' || consult.status === 'FAILED') {
    const latest = await run.deps.v8.findLatestConsultByCpf(run.input.cpf, { signal: run.signal })
    if (latest && (!consult || latest.id !== consult.id)) consult = latest
  }
  return consult
}

/** A new consult with the borrower's data, recorded at once (a crash now resumes it, never creates another). */
async function createConsult (run: Run, s: Omit<Opened, 'consult'> & { consult?: Consult }): Promise<Next<Opened>> {
  const b = s.borrower
  try {
    const r = await run.deps.v8.createConsult(
      {
        borrowerDocumentNumber: b.cpf,
        gender: b.gender === 'M' ? 'male' : 'female',
        birthDate: b.birthDate,
        signerName: b.name,
        signerEmail: b.email,
        signerPhone: { phoneNumber: b.mobile.number, countryCode: '55', areaCode: b.mobile.areaCode },
      },
      run.signal
    )
    const consult = { id: r.id, status: r.status } as Consult
    const opened: Opened = { ...s, consult, birthDateUsed: b.birthDate }
    save(run, opened, 'PENDING', 'termo', { resultado: resultOf(opened, { pendente: true }), kentroSynced: false })
    run.deps.logger.info({ cpf: maskCpf(b.cpf), consult: r.id, reused: r.reused }, 'clt flow: consult created')
    return opened
  } catch (err) {
    // A business refusal of the consult itself (e.g. minimum age) is an outcome; transient trouble goes up.
    if (!(err instanceof UpstreamError) || err.statusCode !== 422) throw err
    const motivo = typeof err.details?.['motivo'] === 'string' ? err.details['motivo'] : err.message
    return fail(run, s, { etapa: 'termo', code: 'termo_nao_criado', erro: `A V8 recusou abrir a consulta: ${motivo}`, details: { tipo: err.code }, extra: { motivo_falha: motivo } })
  }
}

/**
 * 4. Authorize when still waiting for consent, then poll (bounded) until usable, final or the deadline. A
 * birth-date rejection of a consult made this run is retried once when the CRM now holds another birth date.
 */
export async function settleConsult (run: Run, o: Opened): Promise<Next<Opened>> {
  let s = { ...o, consult: await authorizeAndWait(run, o.consult) }
  while (s.consult.status === 'REJECTED' && !s.retried && !s.rejectedAtStart && s.birthDateUsed !== null && isBirthDateRejection(s.consult.description)) {
    const fresh = await currentBirthDate(run, s)
    if (fresh === null || fresh === s.birthDateUsed) break
    run.deps.logger.info({ cpf: maskCpf(run.input.cpf), consult: s.consult.id }, 'clt flow: CRM birth date changed after the rejection; new consult')
    const next = await createConsult(run, { ...s, borrower: { ...s.borrower, birthDate: fresh }, retried: true })
    if (next instanceof Done) return next
    s = { ...next, consult: await authorizeAndWait(run, next.consult) }
  }
  return s
}

async function authorizeAndWait (run: Run, start: Consult): Promise<Consult> {
  const { v8 } = run.deps
  let consult = start
  if (consult.status === 'WAITING_CONSENT') {
    await v8.authorizeConsult(consult.id, run.signal)
    consult = await v8.getConsult(consult.id, run.signal)
  }
  let delay = run.poll.firstMs
  for (;;) {
    if (FINAL_STATUSES.has(consult.status) || isSimulable(consult)) return consult
    const left = run.deadline - run.now()
    if (left <= 0) return consult
    await run.sleep(Math.min(delay, left), run.signal)
    delay = Math.min(delay * run.poll.factor, run.poll.maxMs)
    consult = await v8.getConsult(consult.id, run.signal)
  }
}

/** The birth date to use now: the caller's or V8's as given, else the CRM's as it reads at this moment (null when unusable). */
async function currentBirthDate (run: Run, s: Opened): Promise<string | null> {
  if (s.borrower.sources.data_nascimento !== 'kentro' || !s.opp) return s.borrower.birthDate
  const fresh = await run.deps.kentro.getOpportunity(s.opp.id, run.signal)
  const r = checkBirthDate(fresh.formsdata[FORM_KEYS.birthDate], run.now())
  return r.ok ? r.value : null
}
