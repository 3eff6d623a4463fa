import t from 'tap'
import { RateLimiter } from '../../src/upstream/rate-limiter.js'

t.test('at most `limit` grants in any window, in arrival order', async (t) => {
  const limiter = new RateLimiter({ limit: 5, windowMs: 200 })
  const start = performance.now()
  const order: number[] = []
  const at: number[] = []
  await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      limiter.acquire().then(() => {
        order.push(i)
        at.push(performance.now() - start)
      })
    )
  )
  t.same(order, [...order].sort((a, b) => a - b), 'granted first come, first served')
  t.ok(at.slice(0, 5).every((ms) => ms < 50), `first 5 at once (${at.slice(0, 5).map(Math.round)})`)
  t.ok(at.slice(5, 10).every((ms) => ms >= 195), `next 5 after one window (${at.slice(5, 10).map(Math.round)})`)
  t.ok(at.slice(10).every((ms) => ms >= 395), `last 2 after two windows (${at.slice(10).map(Math.round)})`)
  for (let i = 0; i < at.length; i++) {
    const inWindow = at.filter((x) => x > at[i]! - 195 && x <= at[i]!).length
    t.ok(inWindow <= 5, `grant ${i}: ${inWindow} grants in the 200 ms ending there`)
  }
  t.equal(limiter.waiting, 0, 'nobody left waiting')
})

t.test('an aborted waiter leaves the queue without using a slot', async (t) => {
  const limiter = new RateLimiter({ limit: 1, windowMs: 150 })
  await limiter.acquire()
  const ac = new AbortController()
  const aborted = limiter.acquire(ac.signal)
  const next = limiter.acquire()
  t.equal(limiter.waiting, 2, 'two waiting')
  ac.abort(new Error('gave up'))
  await t.rejects(aborted, { message: 'gave up' }, 'the aborted one rejects with its reason')
  t.equal(limiter.waiting, 1, 'removed from the queue')
  const start = performance.now()
  await next
  const waited = performance.now() - start
  t.ok(waited < 200, `the next waiter got the slot the aborted one would have had (${Math.round(waited)} ms)`)
  await t.rejects(limiter.acquire(AbortSignal.abort(new Error('already'))), { message: 'already' }, 'an already aborted signal rejects at once')
})

t.test('the limit is read at each call (config changes apply at once)', async (t) => {
  let limit = 2
  const limiter = new RateLimiter({ limit: () => limit, windowMs: 1000 })
  await limiter.acquire()
  await limiter.acquire()
  let third = false
  const order: string[] = []
  const pending = limiter.acquire().then(() => {
    third = true
    order.push('waiting')
  })
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(third, false, 'the third waits at limit 2')
  limit = 4
  const start = performance.now()
  await limiter.acquire().then(() => order.push('newcomer')) // its arrival re-evaluates the queue at the new limit
  await pending
  t.equal(third, true, 'granted once the limit rose')
  t.ok(performance.now() - start < 500, 'without waiting for the window to pass')
  t.same(order, ['waiting', 'newcomer'], 'the newcomer did not overtake the waiting caller')
})

t.test('a plain number is calls per second', async (t) => {
  const limiter = new RateLimiter(3)
  const start = performance.now()
  for (let i = 0; i < 4; i++) await limiter.acquire()
  const ms = performance.now() - start
  t.ok(ms >= 990 && ms < 1500, `the 4th call of a 3/s limiter waits about a second (${Math.round(ms)} ms)`)
})
