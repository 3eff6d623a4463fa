/**
 * Response serialization with fast-json-stringify for hot routes, from the same zod schema the route declares.
 *
 * The app's default serializer (fastify-type-provider-zod) walks every response through zod before JSON.stringify.
 * A route whose answer is built field by field from its own data can use `serializerCompiler: fastJson` instead:
 * the zod schema still documents the route (/docs) and types its handler, and is compiled into a fast-json-stringify
 * function that writes only the declared fields (anything else in the object never leaves). Loading
 * fast-json-stringify (with Ajv, which it uses) and the compile (JSON Schema from zod, an Ajv instance, code
 * generation) happen on the route's first answer, not at start: a tenant that never serves the route never pays
 * them, and every start is that much shorter. It is required from node_modules then (the serializer is
 * synchronous, so it cannot wait for a chunk of the bundle, which loads by import()).
 */
import { createRequire } from 'node:module'
import type { Schema } from 'fast-json-stringify'
import { z } from 'zod'

const requireAtRunTime = createRequire(import.meta.url)

export function fastJson ({ schema }: { schema: unknown }): (data: unknown) => string {
  let stringify: ((data: unknown) => string) | undefined
  return (data) => {
    stringify ??= (requireAtRunTime('fast-json-stringify') as typeof import('fast-json-stringify').default)(z.toJSONSchema(schema as z.ZodType, { io: 'output', target: 'draft-7' }) as Schema)
    return stringify(data)
  }
}
