import t from 'tap'
import { z } from 'zod'
import { fastJson } from '../../src/http/fast-json.js'

t.test('fastJson writes the declared fields of the zod schema, and only those', async (t) => {
  const record = z.record(z.string(), z.unknown())
  const schema = z.object({ success: z.literal(true), item: z.object({ cpf: z.string(), data: record, extra: record.nullable() }) })
  const stringify = fastJson({ schema })
  const value = { success: true, item: { cpf: '***', data: { a: [1, 'é"', null], b: { c: 2 } }, extra: null, apiKey: 'never-leaves' }, token: 'nor-this' }
  const out = stringify(value)
  t.same(JSON.parse(out), { success: true, item: { cpf: '***', data: { a: [1, 'é"', null], b: { c: 2 } }, extra: null } }, 'same content as JSON.stringify of the declared fields')
  t.notMatch(out, /never-leaves|nor-this/, 'undeclared fields never leave')
  t.same(JSON.parse(stringify({ ...value, item: { ...value.item, extra: { n: 1 } } })).item.extra, { n: 1 }, 'a nullable record with a value')
})
