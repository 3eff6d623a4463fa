/**
 * How each sandbox person looks at PresençaBank, deterministically from the seed:
 * - eligible with margin: `ok`, `slow`, `incomplete`, `no_opportunity`, `no_gender` and CPFs outside the population
 *   (every 5th `ok` person also has an older, ineligible link with an 8-digit employer root, listed first);
 * - eligible without margin: `no_margin` (0.00 for even indices, negative for odd ones);
 * - not eligible: `rejected` (even indices: one link with elegivel:false; odd: 400 "CPF não encontrado na base");
 * - no links: `no_links` (`{"id": []}`).
 */
import { personByCpf, strangerMargin, type Person } from './population.js'
import { hash32 } from './random.js'

export type PresencaOutcome = 'eligible' | 'eligible_no_margin' | 'not_eligible' | 'cpf_not_found' | 'no_links'

export interface SandboxLink {
  matricula: string
  numeroInscricaoEmpregador: string
  elegivel: boolean
  /** What consultar-margem answers for this link. */
  margin: number
  base: number
  totalDue: number
  admission: string
}

export interface PresencaProfile {
  outcome: PresencaOutcome
  links: SandboxLink[]
  /** From the person record (null for CPFs outside the population). */
  birthDate: string | null
  mother: string | null
  sex: 'Masculino' | 'Feminino' | null
}

/** The two CNPJ check digits of a 12-digit base. */
function cnpjCheckDigits (base12: string): string {
  const digit = (digits: string): number => {
    const weights = digits.length === 12 ? [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2] : [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    const sum = [...digits].reduce((acc, d, i) => acc + Number(d) * weights[i]!, 0)
    const r = sum % 11
    return r < 2 ? 0 : 11 - r
  }
  const d1 = digit(base12)
  return `${d1}${digit(base12 + String(d1))}`
}

function cnpj (seed: number, cpf: string, k: number): string {
  const root = String(10_000_000 + (hash32('cnpj', seed, cpf, k) % 89_999_999))
  const base = `${root}0001`
  return base + cnpjCheckDigits(base)
}

function round2 (n: number): number {
  return Math.round(n * 100) / 100
}

function link (seed: number, cpf: string, k: number, margin: number, elegivel: boolean): SandboxLink {
  const h = hash32('vinculo', seed, cpf, k)
  // The base is the share of the salary a payroll loan may take (35 %); an installment already taken shows as debt.
  const base = margin > 0 ? round2(margin / 0.7) : round2(900 + (h % 2000))
  return {
    matricula: String(100 + (h % 99_000)),
    numeroInscricaoEmpregador: cnpj(seed, cpf, k),
    elegivel,
    margin,
    base,
    totalDue: round2(base / 0.35),
    admission: `${2010 + (h % 14)}-${String(1 + (h % 12)).padStart(2, '0')}-${String(1 + (h % 28)).padStart(2, '0')}`,
  }
}

function outcomeOf (p: Person | null): PresencaOutcome {
  if (!p) return 'eligible'
  if (p.scenario === 'no_links') return 'no_links'
  if (p.scenario === 'no_margin') return 'eligible_no_margin'
  if (p.scenario === 'rejected') return p.index % 2 === 0 ? 'not_eligible' : 'cpf_not_found'
  return 'eligible'
}

export function presencaProfile (seed: number, cpf: string): PresencaProfile {
  const p = personByCpf(seed, cpf)
  const outcome = outcomeOf(p)
  const margin = Number(p ? p.margin : strangerMargin(seed, cpf))
  let links: SandboxLink[] = []
  if (outcome === 'eligible') {
    links = [link(seed, cpf, 0, margin, true)]
    if (p?.scenario === 'ok' && p.index % 5 === 4) {
      const old = link(seed, cpf, 1, 0, false)
      links.unshift({ ...old, matricula: old.matricula.padStart(20, '0'), numeroInscricaoEmpregador: old.numeroInscricaoEmpregador.slice(0, 8) })
    }
  } else if (outcome === 'eligible_no_margin') {
    links = [link(seed, cpf, 0, p && p.index % 2 === 1 ? -round2(50 + (hash32('neg', seed, cpf) % 400)) : 0, true)]
  } else if (outcome === 'not_eligible') {
    links = [link(seed, cpf, 0, 0, false)]
  }
  return {
    outcome,
    links,
    birthDate: p?.data_nascimento ?? null,
    mother: p?.mae ?? null,
    sex: p ? (p.sexo === 'M' ? 'Masculino' : 'Feminino') : null,
  }
}
