/** Bearer API-key check, constant time; every route but /health and the page shell sits behind it. */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors.js'

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Build an onRequest hook checking `Authorization: Bearer <key>` against the key `current()` returns. */
export function requireApiKey (current: () => string) {
  return async function checkApiKey (req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const header = req.headers.authorization
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    // Hash both sides so the comparison is constant time whatever the lengths.
    if (!match || !timingSafeEqual(digest(match[1]!), digest(current()))) {
      throw new AppError('nao_autorizado', 'Chave de API ausente ou inválida: envie Authorization: Bearer <API_KEY>.', 401)
    }
  }
}
