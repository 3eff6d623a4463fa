/** TRUST_PROXY (config/schema.ts) as fastify's trustProxy option, for the tenants' app and the console's. */
import type { TrustProxy } from '../config/schema.js'

/**
 * false, the proxies' addresses, or a hop count. Fastify ignores a bare number (it cannot check the peer), so a hop
 * count is spelled out: the socket and the n-1 addresses before it are proxies.
 */
export function fastifyTrustProxy (value: TrustProxy): false | string[] | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address, hop) => hop < value : value
}
