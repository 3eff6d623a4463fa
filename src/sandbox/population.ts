/** The deterministic sandbox population: person #i of a scenario, generated on demand from the seed, found back by CPF or opportunity id. */
import { cpfCheckDigits } from './cpf.js'
import { hash32, intBetween, pick, prng } from './random.js'

/**
 * Appended scenarios keep earlier CPFs stable. `no_gender`: CRM and V8 know everything but the gender (as most
 * records really are: no public Kentro form has a gender field), so only the caller or the tenant's declared
 * default (DEFAULT_GENDER) can complete it. `no_links`: PresençaBank lists no employment link for the CPF (V8 and the
 * CRM treat them like `ok`). How each scenario behaves at PresençaBank: src/sandbox/presenca-people.ts.
 */
export const SCENARIOS = ['ok', 'rejected', 'no_opportunity', 'incomplete', 'no_margin', 'slow', 'no_gender', 'no_links'] as const
export type Scenario = (typeof SCENARIOS)[number]

/** Indices per scenario that map to distinct CPFs (far more than any test lists). */
export const MAX_INDEX = 1_000_000
const MOD = 1_000_000_000n
/** Opportunity ids of population people: OPPORTUNITY_BASE + scenario * MAX_INDEX + index. */
export const OPPORTUNITY_BASE = 100_000
/** Older clones of some people's opportunities (automations clone leads): CLONE_BASE + the same serial. */
export const CLONE_BASE = 50_000_000
export const PIPELINES = [1, 3, 4] as const
export const INITIAL_STAGE = 10
export const REJECTION_REASON = 'Data de nascimento nao confere'

export interface Person {
  cpf: string
  nome: string
  telefone: string // area code + 9-digit mobile, no country code
  email: string
  data_nascimento: string // YYYY-MM-DD
  sexo: 'M' | 'F'
  mae: string
  cep: string
  rua: string
  numero: string
  bairro: string
  cidade: string
  uf: string
  scenario: Scenario
  index: number
  margin: string // "350.00"
  installmentsMax: number
  pipelineId: number
  opportunityId: number | null
  /** An older open opportunity of the same CPF in the same pipeline (every 10th `ok` person), or null. */
  cloneId: number | null
  createdAt: string
  /** V8's client-data knows the person (not for `incomplete`: their data must come from the CRM or the caller). */
  v8Knows: boolean
  /** V8's client-data carries the gender (not for `no_gender`: then only the caller or the tenant's default has it). */
  v8Gender: boolean
}

const MALE = ['JOAO', 'PEDRO', 'LUCAS', 'MARCOS', 'RAFAEL', 'BRUNO', 'CARLOS', 'EDUARDO', 'FELIPE', 'GUSTAVO', 'ANDRE', 'DIEGO']
const FEMALE = ['MARIA', 'ANA', 'JULIANA', 'FERNANDA', 'PATRICIA', 'CAMILA', 'LUCIANA', 'BEATRIZ', 'LARISSA', 'AMANDA', 'PRISCILA', 'RENATA']
const SURNAMES = ['SILVA', 'SANTOS', 'OLIVEIRA', 'SOUZA', 'LIMA', 'PEREIRA', 'FERREIRA', 'COSTA', 'RODRIGUES', 'ALMEIDA', 'NASCIMENTO', 'CARVALHO', 'GOMES', 'RIBEIRO', 'MARTINS', 'ARAUJO']
const CITIES = [
  ['SAO PAULO', 'SP', '11'], ['RIO DE JANEIRO', 'RJ', '21'], ['BELO HORIZONTE', 'MG', '31'], ['CURITIBA', 'PR', '41'],
  ['PORTO ALEGRE', 'RS', '51'], ['BRASILIA', 'DF', '61'], ['SALVADOR', 'BA', '71'], ['RECIFE', 'PE', '81'],
  ['FORTALEZA', 'CE', '85'], ['CAMPINAS', 'SP', '19'], ['PRESIDENTE PRUDENTE', 'SP', '18'], ['GOIANIA', 'GO', '62'],
] as const
const STREETS = ['RUA DAS FLORES', 'AVENIDA BRASIL', 'RUA SETE DE SETEMBRO', 'RUA XV DE NOVEMBRO', 'AVENIDA PAULISTA', 'RUA DOM PEDRO II']
const DISTRICTS = ['CENTRO', 'JARDIM AMERICA', 'VILA NOVA', 'BELA VISTA', 'SANTA CRUZ', 'BOA VISTA']

/** The seed's invertible affine map over 9-digit numbers: serial n ↔ CPF base. */
function affine (seed: number): { a: bigint; b: bigint; aInverse: bigint } {
  let a = BigInt((hash32('cpf-a', seed) % 400_000_000) * 2 + 100_000_001) // odd
  if (a % 5n === 0n) a += 2n
  const b = BigInt(hash32('cpf-b', seed) % 1_000_000_000)
  return { a, b, aInverse: modInverse(a, MOD) }
}

function modInverse (a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m]
  let [oldS, s] = [1n, 0n]
  while (r !== 0n) {
    const q = oldR / r
    ;[oldR, r] = [r, oldR - q * r]
    ;[oldS, s] = [s, oldS - q * s]
  }
  return ((oldS % m) + m) % m
}

export function cpfOf (seed: number, scenario: Scenario, index: number): string {
  const { a, b } = affine(seed)
  const serial = BigInt(SCENARIOS.indexOf(scenario) * MAX_INDEX + index)
  const base = String((a * serial + b) % MOD).padStart(9, '0')
  return base + cpfCheckDigits(base)
}

/** Which scenario/index a CPF belongs to, or null for a CPF outside the population. */
export function locateCpf (seed: number, cpf: string): { scenario: Scenario; index: number } | null {
  if (!/^\d{11}$/.test(cpf) || cpfCheckDigits(cpf.slice(0, 9)) !== cpf.slice(9)) return null
  const { b, aInverse } = affine(seed)
  const serial = Number((((BigInt(cpf.slice(0, 9)) - b) % MOD + MOD) % MOD * aInverse) % MOD)
  const scenario = SCENARIOS[Math.floor(serial / MAX_INDEX)]
  if (scenario === undefined) return null
  return { scenario, index: serial % MAX_INDEX }
}

/** Person #index of a scenario. Same seed → same person. */
export function personAt (seed: number, scenario: Scenario, index: number): Person {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_INDEX) throw new RangeError(`index out of range: ${index}`)
  const s = SCENARIOS.indexOf(scenario)
  const rand = prng(hash32('person', seed, scenario, index))
  const sexo = rand() < 0.5 ? 'M' : 'F'
  const first = pick(rand, sexo === 'M' ? MALE : FEMALE)
  const last1 = pick(rand, SURNAMES)
  const last2 = pick(rand, SURNAMES)
  const [cidade, uf, ddd] = pick(rand, CITIES)
  const birth = `${intBetween(rand, 1962, 2003)}-${pad(intBetween(rand, 1, 12))}-${pad(intBetween(rand, 1, 28))}`
  const margin = scenario === 'no_margin' || scenario === 'rejected' ? 0 : intBetween(rand, 30, 300) * 5
  const serial = s * MAX_INDEX + index
  return {
    cpf: cpfOf(seed, scenario, index),
    nome: `${first} ${last1} ${last2}`,
    telefone: `${ddd}9${String(intBetween(rand, 10_000_000, 99_999_999))}`,
    email: `${first}.${last2}${serial}@example.com`.toLowerCase(),
    data_nascimento: birth,
    sexo,
    mae: `${pick(rand, FEMALE)} ${last1}`,
    cep: String(intBetween(rand, 1_000_000, 99_999_999)).padStart(8, '0'),
    rua: pick(rand, STREETS),
    numero: String(intBetween(rand, 1, 2000)),
    bairro: pick(rand, DISTRICTS),
    cidade,
    uf,
    scenario,
    index,
    margin: margin.toFixed(2),
    // Every 4th `ok` person caps at 18 installments, so a 24 → 12 fallback is exercised.
    installmentsMax: scenario === 'ok' && index % 4 === 3 ? 18 : 24,
    pipelineId: PIPELINES[hash32('pipeline', seed, serial) % PIPELINES.length] ?? 1,
    opportunityId: scenario === 'no_opportunity' ? null : OPPORTUNITY_BASE + serial,
    cloneId: scenario === 'ok' && index % 10 === 9 ? CLONE_BASE + serial : null,
    createdAt: new Date(Date.UTC(2025, 0, 1) + (hash32('created', seed, serial) % (365 * 86_400)) * 1000).toISOString(),
    v8Knows: scenario !== 'incomplete',
    v8Gender: scenario !== 'no_gender',
  }
}

export function personByCpf (seed: number, cpf: string): Person | null {
  const where = locateCpf(seed, cpf)
  return where ? personAt(seed, where.scenario, where.index) : null
}

/** The person behind an opportunity id (their own or their clone's). */
export function personByOpportunityId (seed: number, id: number): Person | null {
  if (id >= CLONE_BASE) {
    const p = personByOpportunityId(seed, id - CLONE_BASE + OPPORTUNITY_BASE)
    return p?.cloneId === id ? p : null
  }
  const serial = id - OPPORTUNITY_BASE
  if (!Number.isInteger(serial) || serial < 0) return null
  const scenario = SCENARIOS[Math.floor(serial / MAX_INDEX)]
  if (scenario === undefined || scenario === 'no_opportunity') return null
  return personAt(seed, scenario, serial % MAX_INDEX)
}

/** The first `limit` people of a scenario, skipping the (rare) all-equal-digit CPFs tenants must refuse. */
export function listPeople (seed: number, scenario: Scenario, limit: number): Person[] {
  const out: Person[] = []
  for (let i = 0; out.length < limit && i < MAX_INDEX; i++) {
    const cpf = cpfOf(seed, scenario, i)
    if (/^(\d)\1{10}$/.test(cpf)) continue
    out.push(personAt(seed, scenario, i))
  }
  return out
}

/** The margin the sandbox gives a CPF outside the population (such CPFs behave like `ok`). */
export function strangerMargin (seed: number, cpf: string): string {
  return (((hash32('stranger', seed, cpf) % 270) + 30) * 5).toFixed(2)
}

function pad (n: number): string {
  return String(n).padStart(2, '0')
}
