/** The sandbox population: deterministic by seed, valid and distinct CPFs, scenario traits, and GET /__sandbox/people. */
import t from 'tap'
import { cpfCheckDigits, isValidCpf } from '../../src/sandbox/cpf.js'
import { listPeople, locateCpf, personAt, personByCpf, personByOpportunityId, SCENARIOS } from '../../src/sandbox/population.js'
import { http, startSandbox } from '../fixtures/sandbox.js'

t.test('CPF check digits follow the mod-11 rule', async (t) => {
  t.equal(cpfCheckDigits('529982247'), '25', 'a known valid CPF (529.982.247-25)')
  t.ok(isValidCpf('52998224725'), 'known CPF is valid')
  t.notOk(isValidCpf('52998224724'), 'a wrong last digit is invalid')
  t.notOk(isValidCpf('11111111111'), 'all-equal digits are invalid')
  t.notOk(isValidCpf('5299822472'), 'ten digits are invalid')
})

t.test('same seed → same people; another seed → other CPFs', async (t) => {
  const a = listPeople(8, 'ok', 50)
  const b = listPeople(8, 'ok', 50)
  t.same(a, b, 'two generations with the same seed are identical')
  const c = listPeople(9, 'ok', 50)
  t.not(a[0]?.cpf, c[0]?.cpf, 'a different seed gives different CPFs')
})

t.test('1000 people per scenario: valid, distinct across scenarios, found back by CPF and opportunity id', async (t) => {
  const seen = new Set<string>()
  for (const scenario of SCENARIOS) {
    const people = listPeople(8, scenario, 1000)
    t.equal(people.length, 1000, `${scenario}: 1000 people`)
    for (const p of people) {
      if (!isValidCpf(p.cpf)) t.fail(`${scenario}#${p.index}: invalid CPF ${p.cpf}`)
      if (seen.has(p.cpf)) t.fail(`duplicate CPF ${p.cpf}`)
      seen.add(p.cpf)
      const where = locateCpf(8, p.cpf)
      if (where?.scenario !== scenario || where.index !== p.index) t.fail(`${p.cpf} does not locate back to ${scenario}#${p.index}`)
    }
  }
  t.equal(seen.size, SCENARIOS.length * 1000, 'all CPFs are distinct')
  t.equal(personByCpf(8, '52998224725'), null, 'a CPF outside the population is nobody')
  const p = personAt(8, 'incomplete', 7)
  t.same(personByOpportunityId(8, p.opportunityId ?? -1), p, 'opportunity id leads back to the person')
  t.equal(personAt(8, 'no_opportunity', 3).opportunityId, null, 'no_opportunity people have no opportunity id')
  const cloned = personAt(8, 'ok', 9)
  t.equal(personByOpportunityId(8, cloned.cloneId ?? -1)?.cpf, cloned.cpf, "a clone's id leads back to the same person")
  t.equal(personByOpportunityId(8, (personAt(8, 'ok', 8).opportunityId ?? 0) + 50_000_000 - 100_000), null, 'not every person has a clone')
})

t.test('scenario traits', async (t) => {
  const ok = listPeople(8, 'ok', 40)
  t.same(ok.filter((p) => p.installmentsMax === 18).map((p) => p.index), [3, 7, 11, 15, 19, 23, 27, 31, 35, 39], 'every 4th ok person caps at 18 installments')
  t.ok(ok.every((p) => Number(p.margin) > 0), 'ok people have a margin')
  t.ok(listPeople(8, 'no_margin', 10).every((p) => p.margin === '0.00'), 'no_margin people have margin 0.00')
  for (const p of ok) {
    t.match(p.telefone, /^[1-9]\d9\d{8}$/, 'phone = area code + 9-digit mobile')
    t.match(p.data_nascimento, /^\d{4}-\d{2}-\d{2}$/, 'birth date is ISO')
    t.ok([1, 3, 4].includes(p.pipelineId), 'pipeline is 1, 3 or 4')
  }
  const pipelines = new Set(ok.map((p) => p.pipelineId))
  t.equal(pipelines.size, 3, 'people are spread over the three pipelines')
})

t.test('GET /__sandbox/people', async (t) => {
  const sb = await startSandbox(t)
  const res = await http(sb.url, 'GET', '/__sandbox/people?scenario=no_margin&limit=5')
  t.equal(res.status, 200, '200')
  t.equal(res.body.people.length, 5, 'limit honoured')
  const keys = ['cpf', 'nome', 'telefone', 'email', 'data_nascimento', 'sexo', 'scenario', 'margin', 'installmentsMax', 'pipelineId', 'opportunityId', 'cloneId', 'v8Knows', 'v8Gender', 'presenca']
  t.same(Object.keys(res.body.people[0]).sort(), keys.sort(), 'documented fields')
  t.ok(res.body.people.every((p: { scenario: string }) => p.scenario === 'no_margin'), 'all of the asked scenario')
  const again = await sb.people('no_margin', 5)
  t.same(again, res.body.people, 'deterministic between calls')
  const bad = await http(sb.url, 'GET', '/__sandbox/people?scenario=nope')
  t.equal(bad.status, 400, 'unknown scenario → 400')
  const dflt = await http(sb.url, 'GET', '/__sandbox/people')
  t.equal(dflt.body.people.length, 20, 'default: 20 ok people')
  t.equal(dflt.body.people[0].scenario, 'ok', 'default scenario ok')
})
