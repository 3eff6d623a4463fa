/** Sliding-window rate limiter, on a mock clock: what is granted when, with no dependence on the machine's speed. */
import { Clock } from 'clock-mock'
import t from 'tap'
import { RateLimiter } from '../../src/upstream/rate-limiter.js'

/** A mock clock (it starts at 1) patched over setTimeout/performance.now; `tick` advances it and lets promises settle. */
function mockClock (t: { teardown(fn: () => unknown): void }): { clock: Clock; tick(ms: number): Promise<void> } {
  const clock = new Clock()
  t.teardown(clock.enter())
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await Promise.resolve()
  }
  return {
    clock,
    tick: async (ms) => {
      await settle()
      for (let left = ms; left > 0; left -= Math.min(left, 1)) {
        clock.advance(Math.min(left, 1))
        await settle()
      }
    },
  }
}

t.test('at most `limit` grants in any window, in arrival order', async (t) => {
  const { clock, tick } = mockClock(t)
  const limiter = new RateLimiter({ limit: 5, windowMs: 200, now: () => clock.now() })
  const order: number[] = []
  const at: number[] = []
  const start = clock.now()
  const all = Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      limiter.acquire().then(() => {
        order.push(i)
        at.push(clock.now() - start)
      })
    )
  )
  await tick(450)
  await all
  t.same(order, [...order].sort((a, b) => a - b), 'granted first come, first served')
  t.same(at, [0, 0, 0, 0, 0, 200, 200, 200, 200, 200, 400, 400], 'five at once, five after one window, two after two')
  for (let i = 0; i < at.length; i++) {
    const inWindow = at.filter((x) => x > at[i]! - 200 && x <= at[i]!).length
    t.ok(inWindow <= 5, `grant ${i}: ${inWindow} grants in the 200 ms ending there`)
  }
  t.equal(limiter.waiting, 0, 'nobody left waiting')
})

t.test('an aborted waiter leaves the queue without using a slot', async (t) => {
  const { clock, tick } = mockClock(t)
  const limiter = new RateLimiter({ limit: 1, windowMs: 150, now: () => clock.now() })
  const start = clock.now()
  await limiter.acquire()
  const ac = new AbortController()
  const aborted = limiter.acquire(ac.signal)
  let nextAt: number | undefined
  const next = limiter.acquire().then(() => { nextAt = clock.now() })
  t.equal(limiter.waiting, 2, 'two waiting')
  ac.abort(new Error('gave up'))
  await t.rejects(aborted, { message: 'gave up' }, 'the aborted one rejects with its reason')
  t.equal(limiter.waiting, 1, 'removed from the queue')
  await tick(150)
  await next
  t.equal(nextAt! - start, 150, 'the next waiter got the slot the aborted one would have had, one window later')
  await t.rejects(limiter.acquire(AbortSignal.abort(new Error('already'))), { message: 'already' }, 'an already aborted signal rejects at once')
})

t.test('the limit is read at each call (config changes apply at once)', async (t) => {
  const { clock, tick } = mockClock(t)
  let limit = 2
  const limiter = new RateLimiter({ limit: () => limit, windowMs: 1000, now: () => clock.now() })
  const start = clock.now()
  await limiter.acquire()
  await limiter.acquire()
  const order: string[] = []
  const pending = limiter.acquire().then(() => order.push('waiting'))
  await tick(30)
  t.same(order, [], 'the third waits at limit 2')
  limit = 4
  await limiter.acquire().then(() => order.push('newcomer')) // its arrival re-evaluates the queue at the new limit
  await pending
  t.equal(clock.now() - start, 30, 'granted once the limit rose, without waiting for the window to pass')
  t.same(order, ['waiting', 'newcomer'], 'the newcomer did not overtake the waiting caller')
})

t.test('a plain number is calls per second', async (t) => {
  const { clock, tick } = mockClock(t)
  const limiter = new RateLimiter(3)
  const start = clock.now()
  for (let i = 0; i < 3; i++) await limiter.acquire()
  let fourthAt: number | undefined
  const fourth = limiter.acquire().then(() => { fourthAt = clock.now() })
  await tick(999)
  t.equal(fourthAt, undefined, 'the 4th call of a 3/s limiter is still waiting after 999 ms')
  await tick(1)
  await fourth
  t.equal(fourthAt! - start, 1000, 'and is granted at one second')
})
