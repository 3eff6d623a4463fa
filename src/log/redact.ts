/**
 * Redaction of secret-named fields in a log line's object, by field name, at any of the first three levels.
 *
 * pino's own `redact` (fast-redact) with the wildcard paths a tenant needs (`*.password`, `*.token` …) walked every
 * line for each of them and took ~11 µs a line, ten times the rest of pino's work: the largest cost of a logged
 * request. This pass looks at each key once against one set of names and copies an object only when it holds one,
 * so a request line (flat, no secret names) costs a few key lookups. It is at least as strict as the paths it
 * replaced: those names at the top level, one and two levels down (`nested.V8_PASSWORD`,
 * `req.headers.authorization`), in objects, arrays and Error properties alike. The line's text is still scrubbed of
 * the tenant's secret values and CPFs afterwards (logger.ts), whatever field holds them; a child logger's bindings
 * are checked by pino's own redact, given these names at the top level only (which costs next to nothing).
 */

import { SECRET_KEYS } from '../config/schema.js'

export const REDACTED = '[REDACTED]'

/** Field names whose value never reaches a log line: the usual credential names and every secret setting of a tenant. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'password',
  'senha',
  'token',
  'access_token',
  'refresh_token',
  'apiKey',
  'api_key',
  ...SECRET_KEYS,
])

/** How many levels of nesting are looked into (top level = 1). */
const DEPTH = 3

/** `obj` itself when it holds no secret-named field within DEPTH levels, else a copy with those values replaced. */
export function redactFields<T extends object> (obj: T): T {
  return redactLevel(obj, DEPTH) as T
}

function redactLevel (value: object, depth: number): object {
  let copy: Record<string, unknown> | undefined
  const source = value as Record<string, unknown>
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue
    const v = source[key]
    let next: unknown = v
    if (SECRET_FIELDS.has(key)) {
      if (v === undefined) continue
      next = REDACTED
    } else if (depth > 1 && v !== null && typeof v === 'object') {
      next = redactLevel(v, depth - 1)
    }
    if (next !== v) {
      copy ??= cloneShallow(value)
      copy[key] = next
    }
  }
  return copy ?? value
}

/** A shallow copy that keeps what a log serializer reads: array-ness, and an Error's name, message and stack. */
function cloneShallow (value: object): Record<string, unknown> {
  if (Array.isArray(value)) return [...value] as unknown as Record<string, unknown>
  if (value instanceof Error) {
    return { type: value.name, message: value.message, stack: value.stack, ...(value as unknown as Record<string, unknown>) }
  }
  return { ...(value as Record<string, unknown>) }
}
