/** sleep(ms, signal): node's timer underneath, an abort rejects at once with the signal's own reason; deadlineFor(ms, signal). */
import t from 'tap'
import { AppError } from '../../src/errors.js'
import { deadlineFor, sleep } from '../../src/upstream/abort.js'

const rejection = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'resolved', (err: unknown) => err)

t.test('a wait ends by itself, or at once on an abort with the reason given', async (t) => {
  t.equal(await sleep(1), undefined, 'resolves after its time')
  t.equal(await sleep(1, new AbortController().signal), undefined, 'with a signal that never aborts too')

  const shutdown = new AbortController()
  // An hour: only the abort can end this wait within the test's time.
  const waiting = sleep(3_600_000, shutdown.signal)
  const reason = new AppError('servico_encerrando', 'O serviço está encerrando.', 503)
  setImmediate(() => shutdown.abort(reason))
  t.equal(await rejection(waiting), reason, 'rejects with the signal\'s reason itself (not node\'s AbortError)')

  const gone = new Error('caller gone')
  t.equal(await rejection(sleep(3_600_000, AbortSignal.abort(gone))), gone, 'an already aborted signal rejects at once, with its reason')
  await t.rejects(sleep(3_600_000, AbortSignal.abort()), { name: 'AbortError' }, 'an abort without a reason: the signal\'s default AbortError')
})

t.test('a deadline aborts when its time is up, or with the caller\'s reason, and does nothing once released', async (t) => {
  const expiring = deadlineFor(5)
  // The deadline's timer is unref'd (it alone does not keep a process running): this interval keeps the test's up.
  const keepAlive = setInterval(() => undefined, 1000)
  await new Promise((resolve) => expiring.signal.addEventListener('abort', resolve, { once: true }))
  clearInterval(keepAlive)
  t.ok(expiring.timedOut(), 'the time ran out')
  t.match(expiring.signal.reason, { name: 'TimeoutError' }, 'with a TimeoutError, as AbortSignal.timeout\'s')
  expiring.release()

  const caller = new AbortController()
  const followed = deadlineFor(3_600_000, caller.signal)
  const reason = new AppError('servico_encerrando', 'O serviço está encerrando.', 503)
  caller.abort(reason)
  t.ok(followed.signal.aborted, 'the caller\'s abort ends it at once')
  t.equal(followed.signal.reason, reason, 'with the caller\'s reason')
  t.notOk(followed.timedOut(), 'not a timeout')
  followed.release()

  const gone = new Error('caller gone')
  const late = deadlineFor(3_600_000, AbortSignal.abort(gone))
  t.equal(late.signal.reason, gone, 'a caller already aborted: aborted from the start, with its reason')
  late.release()

  const other = new AbortController()
  const released = deadlineFor(20, other.signal)
  released.release()
  other.abort(new Error('after the attempt'))
  await sleep(60)
  t.notOk(released.signal.aborted, 'released: neither the caller\'s later abort nor the timer reaches it')
  t.notOk(released.timedOut(), 'the timer was cleared')
})
