// @ts-check
/**
 * What the API modules of both pages (tenant config page, fleet console) share: a key kept for this tab only, the
 * error of a refused call, and reading one JSON answer. Each page's api.js adds its own calls and wording.
 */

/**
 * The key of a page, kept in this tab's sessionStorage under `name` (never localStorage or a cookie). When
 * sessionStorage is off (some private modes), nothing is stored: the page keeps the key in memory only.
 * @param {string} name
 */
export function keyStore (name) {
  return {
    /** @returns {string | null} */
    load () {
      try { return window.sessionStorage.getItem(name) } catch { return null }
    },
    /** @param {string} key */
    save (key) {
      try { window.sessionStorage.setItem(name, key) } catch { /* private mode: kept in memory only */ }
    },
    forget () {
      try { window.sessionStorage.removeItem(name) } catch { /* nothing stored */ }
    },
  }
}

/** A refused call: HTTP status (0 = network), the server's stable code and Portuguese message. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {{campos?: Array<{campo: string, erro: string}>} & Record<string, unknown>} [details]
   */
  constructor (status, code, message, details) {
    super(message)
    this.status = status
    this.code = code
    this.details = details
  }
}

/** The Authorization header of a key (sent as a header only, never in a URL or cookie). @param {string | null} key */
export const bearer = (key) => 'Bearer ' + (key ?? '')

/**
 * fetch, with a network failure turned into ApiError(0, 'rede', unreachable).
 * @param {string} path @param {RequestInit} init @param {string} unreachable what to tell the person
 */
export async function send (path, init, unreachable) {
  try {
    return await fetch(path, { cache: 'no-store', credentials: 'omit', ...init })
  } catch {
    throw new ApiError(0, 'rede', unreachable)
  }
}

/**
 * The JSON answer when the server says success, else an ApiError with the server's code and message.
 * @param {Response} res @param {string} server how to name the server in a message without one ('O serviço')
 * @returns {Promise<any>}
 */
export async function answer (res, server) {
  const text = await res.text()
  let data = null
  try { data = text ? JSON.parse(text) : null } catch { data = null }
  if (res.ok && data && data.success !== false) return data
  const code = data && typeof data.error === 'string' ? data.error : 'http_' + res.status
  const msg = data && typeof data.message === 'string' ? data.message : server + ' respondeu HTTP ' + res.status + '.'
  throw new ApiError(res.status, code, msg, data ? data.details : undefined)
}
