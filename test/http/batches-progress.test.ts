/** The event streams' shared progress extras: one computation per batch and change, kept only while a stream is open. */
import t from 'tap'
import { SharedProgress } from '../../src/http/routes/batches-progress.js'

t.test('streams of one batch share its extras: computed again on a new state, a local change or the refresh, once for all', async (t) => {
  let clock = 0
  const computed: string[] = []
  const shared = new SharedProgress({ compute: (id) => ({ n: computed.push(id) }), refreshMs: 5000, now: () => clock })
  const [a, b, c] = [shared.join('x'), shared.join('x'), shared.join('y')]
  t.same(a.extras('s1'), { n: 1 }, 'the first look computes')
  t.same(b.extras('s1'), { n: 1 }, 'another stream of the batch in the same state gets the same extras, not computed again')
  t.same(c.extras('s1'), { n: 2 }, 'another batch has its own')
  t.same(b.extras('s2'), { n: 3 }, 'the state moved: computed again')
  t.same(a.extras('s2'), { n: 3 }, 'and shared with the other stream')
  a.changed()
  b.changed() // one notification reaches every stream of the batch
  t.same(a.extras('s2'), { n: 4 }, 'after a local notification: computed again')
  t.same(b.extras('s2'), { n: 4 }, 'once for both streams')
  clock += 4999
  t.same(a.extras('s2'), { n: 4 }, 'nothing new before the refresh interval')
  clock += 1
  t.same(b.extras('s2'), { n: 5 }, 'the refresh interval passed: computed again')
  t.same(a.extras('s2'), { n: 5 }, 'once for both')
  t.same(computed, ['x', 'y', 'x', 'x', 'x'], 'each computation for its own batch')
})

t.test('what is kept for a batch goes with its last stream', async (t) => {
  const shared = new SharedProgress({ compute: () => ({}) })
  const [a, b] = [shared.join('x'), shared.join('x')]
  shared.join('y')
  t.equal(shared.watched, 2, 'two batches watched')
  a.leave()
  a.leave() // a stream may end twice (stop, then the socket's close)
  t.equal(shared.watched, 2, 'x still has a stream open')
  b.leave()
  t.equal(shared.watched, 1, 'x dropped with its last stream')
})
