/**
 * What a tenant does not load at start (issue 16): Ajv and fast-json-stringify. Every route schema is zod, checked
 * and serialized by fastify-type-provider-zod's compilers, so fastify's default compilers (Ajv for validation,
 * fast-json-stringify for responses) would only be built to be replaced; the one route serialized by
 * fast-json-stringify (the cache read, src/http/fast-json.ts) loads it on its first answer. This file runs in its own
 * process: the module cache shows what the app loaded.
 */
import { createRequire } from 'node:module'
import t from 'tap'
import { AUTH, build } from '../fixtures/app.js'

/** Whether a file under node_modules (`ajv/`: any of the package) is in the module cache. */
const loaded = (file: string): boolean => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes(`/node_modules/${file}`))
/** fastify itself loads fast-json-stringify's small runtime (lib/serializer.js, for its prebuilt error serializer): not the compiler. */
const COMPILER = 'fast-json-stringify/index.js'

t.test('a started tenant has loaded neither Ajv nor fast-json-stringify; the cache read loads the latter', async (t) => {
  const { app } = await build(t)
  await app.ready()
  // A request through validation and the default serializer: still nothing of either.
  const invalid = await app.inject({ method: 'POST', url: '/cache/simulacao/salvar', headers: AUTH, payload: { cpf: '123' } })
  t.equal(invalid.statusCode, 400, 'a body zod refuses (validation ran)')
  t.notOk(loaded('ajv/'), 'Ajv not loaded')
  t.notOk(loaded(COMPILER), 'fast-json-stringify not loaded')

  const cpf = '46210648860'
  const saved = await app.inject({ method: 'POST', url: '/cache/simulacao/salvar', headers: AUTH, payload: { cpf, consultId: 'c-1', dadosSimulacao: { valor: 1000 } } })
  t.equal(saved.statusCode, 200, 'saved')
  t.notOk(loaded(COMPILER), 'a route serialized by zod does not load it')
  const read = await app.inject({ method: 'GET', url: `/cache/simulacao/${cpf}`, headers: AUTH })
  t.equal(read.statusCode, 200, 'read')
  t.match(read.json(), { success: true, simulacao: { cpf, consultId: 'c-1', dadosSimulacao: { valor: 1000 } } }, 'written by fast-json-stringify')
  t.ok(loaded(COMPILER), 'loaded by the cache read\'s first answer')
})
