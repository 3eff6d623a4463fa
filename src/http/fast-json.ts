/**
 * Response serialization with fast-json-stringify for hot routes, from the same zod schema the route declares.
 *
 * The app's default serializer (fastify-type-provider-zod) walks every response through zod before JSON.stringify.
 * A route whose answer is built field by field from its own data can use `serializerCompiler: fastJson` instead:
 * the zod schema still documents the route (/docs) and types its handler, and is compiled into a fast-json-stringify
 * function that writes only the declared fields (anything else in the object never leaves). The compile (JSON
 * Schema from zod, an Ajv instance, code generation) happens on the route's first answer, not at start:
 * a tenant that never serves the route never pays it, and every start is that much shorter.
 */
import fastJsonStringify, { type Schema } from 'fast-json-stringify'
import { z } from 'zod'

export function fastJson ({ schema }: { schema: unknown }): (data: unknown) => string {
  let stringify: ((data: unknown) => string) | undefined
  return (data) => {
    stringify ??= fastJsonStringify(z.toJSONSchema(schema as z.ZodType, { io: 'output', target: 'draft-7' }) as Schema)
    return stringify(data)
  }
}
