/** Every route's body limit over real HTTP: a body over it, declared or chunked, is one 413 in the one error shape, the limit in words. */
import t from 'tap'
import { BODY_LIMIT } from '../../src/http/app.js'
import { bytesInWords } from '../../src/errors.js'
import { BATCH_BODY_LIMIT } from '../../src/http/routes/batches.js'
import { DOCUMENT_BODY_LIMIT } from '../../src/http/routes/proposals-schemas.js'
import { WEBHOOK_BODY_LIMIT } from '../../src/http/routes/webhooks-v8.js'
import { AUTH, build } from '../fixtures/app.js'
import { listeningPort } from '../fixtures/net.js'
import { rawPost } from '../fixtures/raw-post.js'

t.test('limits in words', async (t) => {
  t.same([BODY_LIMIT, BATCH_BODY_LIMIT, DOCUMENT_BODY_LIMIT, 1536 * 1024, 5 * 1024 * 1024].map(bytesInWords), ['100 KB', '1 MB', '8 MB', '1,5 MB', '5 MB'], 'KB below a megabyte, MB from there')
})

t.test('a body over its route\'s limit, declared or chunked: 413 corpo_muito_grande naming that limit', async (t) => {
  const { app } = await build(t)
  const port = await listeningPort(app)
  const routes: Array<[string, number, Record<string, string>]> = [
    ['/cache/simulacao/salvar', BODY_LIMIT, AUTH],
    ['/clt/lotes', BATCH_BODY_LIMIT, AUTH],
    ['/clt/propostas/p-1/documentos', DOCUMENT_BODY_LIMIT, AUTH],
    // V8's deliveries: no API key, the limit is read before the path's secret is looked at.
    ['/webhooks/v8/any-secret', WEBHOOK_BODY_LIMIT, {}],
  ]
  for (const [path, limit, auth] of routes) {
    const headers = { ...auth, 'content-type': 'application/json' }
    const expected = { success: false, error: 'corpo_muito_grande', message: `O corpo da requisição excede o máximo de ${bytesInWords(limit)}.`, details: { maximo_bytes: limit } }
    for (const [how, body] of [['declared', { declared: limit + 1 }], ['chunked', { chunked: limit + 1 }]] as const) {
      const r = await rawPost(port, path, headers, body)
      t.equal(r.status, 413, `${path}, ${how}: 413`)
      t.same(JSON.parse(r.text), expected, `${path}, ${how}: the one error shape with the route's own limit`)
    }
  }
})
