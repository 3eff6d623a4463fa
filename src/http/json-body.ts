/**
 * The JSON body parser: fastify's own (prototype-poisoning checks kept) behind a nesting-depth bound. No request of
 * this API nests more than a few levels; a body nesting thousands (a 5,000-level `dadosSimulacao` answered 500 once
 * validation and serialization recursed into it) is a clear 400 before it is parsed.
 */
import type { FastifyInstance } from 'fastify'
import { AppError } from '../errors.js'

export const MAX_JSON_DEPTH = 32

/** Whether JSON text opens more than `max` objects/arrays inside one another (strings skipped, escapes honoured). */
export function jsonDepthExceeds (text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) {
      inString = true
    } else if (c === 123 || c === 91) {
      if (++depth > max) return true
    } else if (c === 125 || c === 93) {
      depth--
    }
  }
  return false
}

export function registerJsonBody (app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (jsonDepthExceeds(body as string, MAX_JSON_DEPTH)) {
      done(new AppError('json_muito_aninhado', `O corpo JSON aninha mais de ${MAX_JSON_DEPTH} níveis de objetos ou listas.`, 400, { maximo: MAX_JSON_DEPTH }), undefined)
      return
    }
    parse(req, body as string, done)
  })
}
