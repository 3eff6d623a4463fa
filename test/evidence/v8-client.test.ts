/** The V8 client against the evidence simulator: a consult V8 says already exists is found however old it is (within a year). */
import t from 'tap'
import { pino } from 'pino'
import { ConfigStore } from '../../src/config/store.js'
import { openDatabase } from '../../src/db/database.js'
import { createServices } from '../../src/tenant.js'
import { testConfig } from '../fixtures/config.js'
import { person } from '../fixtures/evidence-sim/population.js'
import { startEvidenceSim } from '../fixtures/evidence-sim/server.js'
import { simConfig } from '../fixtures/evidence-sim/tenant.js'
import { BASELINE } from '../fixtures/evidence-sim/variants.js'

t.test('consult_already_exists names no id: the active consult is looked for in 30-day windows back to a year', async (t) => {
  const old = person('v8c-old')
  const ancient = person('v8c-ancient')
  const sim = await startEvidenceSim(BASELINE, (w) => w.add(old, ancient))
  t.teardown(() => sim.close())
  const seeded = sim.world.seedConsult(old, { status: 'SUCCESS', daysAgo: 75 })
  sim.world.seedConsult(ancient, { status: 'SUCCESS', daysAgo: 400 })
  const db = openDatabase(':memory:')
  const services = createServices({ config: new ConfigStore(testConfig(6997, simConfig(sim))), db, logger: pino({ level: 'silent' }), batch: { start: false } })
  t.teardown(async () => {
    await services.close()
    db.close()
  })
  const request = (p: typeof old) => ({
    borrowerDocumentNumber: p.cpf,
    gender: p.gender,
    birthDate: p.birth,
    signerName: p.name,
    signerEmail: p.email,
    signerPhone: { phoneNumber: p.phone, countryCode: '55' as const, areaCode: p.areaCode },
  })
  t.same(await services.v8.createConsult(request(old)), { id: seeded.id, status: 'SUCCESS', reused: true }, 'a 75-day-old active consult is reused')
  await t.rejects(services.v8.createConsult(request(ancient)), { code: 'consult_already_exists_by_user_and_document_number', statusCode: 422 }, 'beyond a year: V8’s refusal goes up')
  t.equal(sim.world.consults.length, 2, 'nothing created')
})
