// @ts-check
/** The console API as the page calls it: the admin key kept for this tab only, one JSON call, errors in Portuguese. */
import { answer, ApiError, bearer, keyStore, send } from './api-core.js'

export { ApiError }

export const { load: loadKey, save: saveKey, forget: forgetKey } = keyStore('clt-v8.console-key')

/**
 * @typedef {{
 *   port: number, name: string, target: string, config: string, config_error: string | null,
 *   pm2: string, restarts: number | null, health: 'OK' | 'DEGRADED' | 'down', uptime_s: number | null,
 *   v8_login: boolean | null, token: { cached: boolean, age_s: number | null, expires_in: number | null } | null,
 *   batches: { running: number, pending: number } | null, last_error_at: string | null, bad_port: boolean,
 *   links: { page: string, docs: string }
 * }} TenantRow
 */

/**
 * The fleet, with the admin key as a Bearer header (never in a URL or cookie).
 * @param {string} key
 * @returns {Promise<{ generated_at: string, tenants: TenantRow[] }>}
 */
export async function fetchFleet (key) {
  const res = await send('api/tenants', { headers: { accept: 'application/json', authorization: bearer(key) } }, 'Não foi possível falar com o console. Verifique a conexão e tente de novo.')
  if (res.status === 401) throw new ApiError(401, 'nao_autorizado', 'Chave do console incorreta.')
  return answer(res, 'O console')
}
