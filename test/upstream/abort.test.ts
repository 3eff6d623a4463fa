/** sleep(ms, signal): node's timer underneath, an abort rejects at once with the signal's own reason. */
import t from 'tap'
import { AppError } from '../../src/errors.js'
import { sleep } from '../../src/upstream/abort.js'

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
