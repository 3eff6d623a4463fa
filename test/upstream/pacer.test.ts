/** The PresençaBank pacer on an injected clock: slots one interval apart in arrival order, refusals beyond a wait, slots given back. */
import t from 'tap'
import { Pacer, PacingWait } from '../../src/upstream/pacer.js'

function harness (perMinute: number) {
  let now = 1_000_000
  let rpm = perMinute
  const asked: number[] = []
  const pending: Array<{ at: number; resolve: () => void; reject: (e: unknown) => void }> = []
  const pacer = new Pacer({
    perMinute: () => rpm,
    now: () => now,
    sleep: (ms, signal) => new Promise<void>((resolve, reject) => {
      asked.push(ms)
      const entry = { at: now + ms, resolve, reject }
      pending.push(entry)
      signal?.addEventListener('abort', () => {
        pending.splice(pending.indexOf(entry), 1)
        reject(signal.reason)
      }, { once: true })
    }),
  })
  /** Move the clock to the next sleeper's time and wake it. */
  const tick = async (): Promise<void> => {
    pending.sort((a, b) => a.at - b.at)
    const next = pending.shift()
    if (!next) return
    now = Math.max(now, next.at)
    next.resolve()
    // Let the woken caller run to its next await before the clock moves again.
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { pacer, asked, tick, now: () => now, setRpm: (n: number) => { rpm = n } }
}

t.test('concurrent callers get slots one interval apart, first come first served', async (t) => {
  const h = harness(30)
  const order: number[] = []
  const starts: number[] = []
  const all = Array.from({ length: 5 }, (_, i) => h.pacer.acquire().then(() => {
    order.push(i)
    starts.push(h.now())
  }))
  t.same(h.asked, [2000, 4000, 6000, 8000], 'the first goes at once; the others sleep 2, 4, 6, 8 s (30/min)')
  t.equal(h.pacer.waiting, 4, 'four waiting')
  t.equal(h.pacer.delayMs(), 10_000, 'a newcomer would wait 10 s')
  await new Promise((resolve) => setImmediate(resolve)) // the first, granted at once, starts now
  for (let i = 0; i < 4; i++) await h.tick()
  await Promise.all(all)
  t.same(order, [0, 1, 2, 3, 4], 'in arrival order')
  t.same(starts.map((s) => s - starts[0]!), [0, 2000, 4000, 6000, 8000], 'spaced exactly one interval')
  t.equal(h.pacer.waiting, 0, 'nobody left waiting')
})

t.test('a caller that cannot wait long enough is refused at once and takes no slot', async (t) => {
  const h = harness(30)
  await h.pacer.acquire()
  const err = await h.pacer.acquire({ maxWaitMs: 500 }).catch((e: unknown) => e)
  t.ok(err instanceof PacingWait, 'PacingWait')
  t.equal((err as PacingWait).waitMs, 2000, 'says how long the slot is away')
  t.equal(h.pacer.delayMs(), 2000, 'no slot taken')
  const ok = h.pacer.acquire({ maxWaitMs: 2000 })
  t.same(h.asked, [2000], 'one that can wait takes it')
  await h.tick()
  await ok
})

t.test('an aborted waiter gives its slot back when it was the last one; the limit is read at each call', async (t) => {
  const h = harness(60)
  await h.pacer.acquire()
  const ac = new AbortController()
  const waiting = h.pacer.acquire({ signal: ac.signal })
  t.equal(h.pacer.delayMs(), 2000, 'next free slot after the waiter')
  ac.abort(new Error('gave up'))
  await t.rejects(waiting, { message: 'gave up' }, 'rejects with the reason')
  t.equal(h.pacer.delayMs(), 1000, 'its slot is free again')
  h.setRpm(6)
  const next = h.pacer.acquire()
  t.equal(h.pacer.delayMs(), 11_000, 'the new limit (6/min → 10 s) spaces the next one')
  await h.tick()
  await next
  await t.rejects(h.pacer.acquire({ signal: AbortSignal.abort(new Error('already')) }), { message: 'already' }, 'an aborted signal is refused at once')
})
