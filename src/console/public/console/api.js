// @ts-check
/** The console API as the page calls it: the admin key kept for this tab only, one JSON call, errors in Portuguese. */

const KEY_STORAGE = 'clt-v8.console-key'

/** The key of this tab's session, or null (sessionStorage may be off: private mode keeps it in memory only). */
export function loadKey () {
  try { return window.sessionStorage.getItem(KEY_STORAGE) } catch { return null }
}

/** @param {string} key */
export function saveKey (key) {
  try { window.sessionStorage.setItem(KEY_STORAGE, key) } catch { /* private mode: kept in memory only */ }
}

export function forgetKey () {
  try { window.sessionStorage.removeItem(KEY_STORAGE) } catch { /* nothing stored */ }
}

/** A refused call: HTTP status (0 = network), the server's code and Portuguese message. */
export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor (status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

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
  let res
  try {
    res = await fetch('api/tenants', { headers: { accept: 'application/json', authorization: 'Bearer ' + key }, cache: 'no-store', credentials: 'omit' })
  } catch {
    throw new ApiError(0, 'rede', 'Não foi possível falar com o console. Verifique a conexão e tente de novo.')
  }
  const text = await res.text()
  let data = null
  try { data = text ? JSON.parse(text) : null } catch { data = null }
  if (res.ok && data && data.success === true) return data
  if (res.status === 401) throw new ApiError(401, 'nao_autorizado', 'Chave do console incorreta.')
  const msg = data && typeof data.message === 'string' ? data.message : 'O console respondeu HTTP ' + res.status + '.'
  throw new ApiError(res.status, data && typeof data.error === 'string' ? data.error : 'http_' + res.status, msg)
}
