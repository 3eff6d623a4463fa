/** flow-reply: what both flow routes answer alike — the pending wait in whole seconds. */
import t from 'tap'
import { retryAfterSeconds } from '../../src/http/routes/flow-reply.js'

t.test('a pending wait is rounded up to whole seconds and never 0 (which would ask for a call at once)', async (t) => {
  t.same([0, 1, 999, 1000, 1001, 4500, 30_000].map(retryAfterSeconds), [1, 1, 1, 1, 2, 5, 30])
})
