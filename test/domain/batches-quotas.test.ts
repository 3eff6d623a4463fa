/** Batch quotas on a clock the test moves: a rolling 24 h for batches and CPFs, pending CPFs, and when each frees up. */
import t from 'tap'
import { pino } from 'pino'
import { openDatabase } from '../../src/db/database.js'
import { BatchService, type BatchQuotas } from '../../src/domain/batches/service.js'
import { AppError } from '../../src/errors.js'
import { FakeRunner, validCpfs } from '../fixtures/batches.js'
import { manualClock } from '../fixtures/sandbox.js'

const HOUR = 3_600_000
const invalid = (n: number, series: number): string[] => Array.from({ length: n }, (_, i) => String(100_000_000_000 + series * 10_000 + i))

function service (t: { teardown(fn: () => unknown): void }, quotas: BatchQuotas) {
  const clock = manualClock()
  const db = openDatabase(':memory:')
  const svc = new BatchService({
    db,
    logger: pino({ level: 'silent' }),
    now: clock.now,
    runner: new FakeRunner(),
    listCpfs: async () => [],
    maxItems: () => 5000,
    quotas: () => quotas,
    engine: { concurrency: 1 },
  })
  t.teardown(() => db.close())
  return { svc, clock }
}

/** Two batches of `size` invalid CPFs an hour apart, then the clock an hour past the second. */
async function twoBatchesAnHourApart (svc: BatchService, clock: { advance(ms: number): void }, size: number): Promise<void> {
  await svc.create({ origem: 'lista', cpfs: invalid(size, 0) })
  clock.advance(HOUR)
  await svc.create({ origem: 'lista', cpfs: invalid(size, 1) })
  clock.advance(HOUR)
}

async function refusal (p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  if (!(err instanceof AppError)) throw new Error(`expected a refusal, got ${String(err)}`)
  return err
}

t.test('batches per day: a rolling window, Retry-After = when the oldest leaves it', async (t) => {
  const { svc, clock } = service(t, { batchesPerDay: 2, itemsPerDay: 1000, maxPendingItems: 1000 })
  await twoBatchesAnHourApart(svc, clock, 1)
  const err = await refusal(svc.create({ origem: 'lista', cpfs: invalid(1, 2) }))
  t.equal(err.statusCode, 429, '429')
  t.equal(err.code, 'cota_diaria_de_lotes', 'code')
  t.equal(err.details?.['retry_after_s'], 22 * 3600, 'free again 24 h after the first, 22 h from now')
  clock.advance(22 * HOUR)
  await svc.create({ origem: 'lista', cpfs: invalid(1, 3) })
  t.pass('accepted once the first left the window')
})

t.test('CPFs per day count invalid ones; Retry-After = when enough old batches leave; too big for any day is a 422', async (t) => {
  const { svc, clock } = service(t, { batchesPerDay: 100, itemsPerDay: 10, maxPendingItems: 1000 })
  await twoBatchesAnHourApart(svc, clock, 4)
  const err = await refusal(svc.create({ origem: 'lista', cpfs: invalid(7, 2) }))
  t.equal(err.code, 'cota_diaria_de_cpfs', '8 used + 7 > 10')
  t.equal(err.details?.['retry_after_s'], 23 * 3600, 'the second batch must leave too: 24 h after it')
  const small = await refusal(svc.create({ origem: 'lista', cpfs: invalid(3, 3) }))
  t.equal(small.details?.['retry_after_s'], 22 * 3600, 'three fit once the first leaves')
  const huge = await refusal(svc.create({ origem: 'lista', cpfs: invalid(11, 4) }))
  t.equal(huge.statusCode, 422, 'more than a whole day\'s quota can never fit')
})

t.test('pending CPFs: valid items waiting or running count; invalid ones do not', async (t) => {
  const { svc } = service(t, { batchesPerDay: 100, itemsPerDay: 1000, maxPendingItems: 5 })
  await svc.create({ origem: 'lista', cpfs: [...validCpfs(4), ...invalid(10, 0)] })
  const err = await refusal(svc.create({ origem: 'lista', cpfs: validCpfs(2, 1) }))
  t.equal(err.code, 'fila_de_lotes_cheia', '4 pending + 2 > 5')
  t.equal(err.details?.['retry_after_s'], 60, 'look again in a minute')
  await svc.create({ origem: 'lista', cpfs: validCpfs(1, 1) })
  t.pass('one more fits')
})
