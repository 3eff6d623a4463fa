// @ts-check
/** The tenant API as the page calls it: the key kept for this tab only, one JSON call, errors in Portuguese. */

/**
 * Where this tab keeps the key. Opened directly (http://host:6001/config-v8) it is `clt-v8.api-key`; through the fleet
 * console every tenant shares the console's origin, so the key is kept per path prefix (`clt-v8.api-key:/t/6000/`),
 * never handed to another tenant's page.
 */
const KEY_STORAGE = (() => {
  const prefix = window.location.pathname.replace(/config-v8\/?$/, '')
  return prefix === '/' ? 'clt-v8.api-key' : 'clt-v8.api-key:' + prefix
})()

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

/**
 * One JSON call to this tenant's API with the key as a Bearer header (never in a URL or cookie).
 * @param {string} method
 * @param {string} path relative to the page, e.g. 'config/tenant'
 * @param {unknown} body
 * @param {string | null} key
 * @returns {Promise<any>} the answer, when the server says success
 */
export async function api (method, path, body, key) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', authorization: 'Bearer ' + (key ?? '') }
  /** @type {RequestInit} */
  const init = { method, headers, cache: 'no-store', credentials: 'omit' }
  if (body !== undefined) {
    headers['content-type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  return answer(await send(path, init))
}

/** @param {string} path @param {RequestInit} init */
async function send (path, init) {
  try {
    return await fetch(path, init)
  } catch {
    throw new ApiError(0, 'rede', 'Não foi possível falar com o serviço desta porta. Verifique a conexão e tente de novo.')
  }
}

/**
 * Send a file's bytes (or pasted text) as the body, as the spreadsheet upload takes it.
 * @param {string} path @param {Blob | string} body @param {string | null} key
 * @returns {Promise<any>}
 */
export async function apiUpload (path, body, key) {
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : (body.type || 'application/octet-stream')
  return answer(await send(path, { method: 'POST', body, cache: 'no-store', credentials: 'omit', headers: { accept: 'application/json', authorization: 'Bearer ' + (key ?? ''), 'content-type': type } }))
}

/**
 * A file from the API (the results), as a Blob with the name the server gave it.
 * @param {string} path @param {string | null} key
 * @returns {Promise<{blob: Blob, name: string}>}
 */
export async function apiDownload (path, key) {
  const res = await send(path, { method: 'GET', cache: 'no-store', credentials: 'omit', headers: { authorization: 'Bearer ' + (key ?? '') } })
  if (!res.ok) return answer(res)
  const m = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')
  return { blob: await res.blob(), name: m ? m[1] ?? 'resultado' : 'resultado' }
}

/** The JSON answer, or an ApiError with the server's code and message. @param {Response} res @returns {Promise<any>} */
async function answer (res) {
  const text = await res.text()
  let data = null
  try { data = text ? JSON.parse(text) : null } catch { data = null }
  if (res.ok && data && data.success !== false) return data
  const code = data && typeof data.error === 'string' ? data.error : 'http_' + res.status
  const msg = data && typeof data.message === 'string' ? data.message : 'O serviço respondeu HTTP ' + res.status + '.'
  throw new ApiError(res.status, code, msg, data ? data.details : undefined)
}

/** @type {Record<string, string>} */
const FIELD_NAMES = {
  'body.username': 'E-mail',
  'body.password': 'Senha',
  'body.kentro.api_url': 'URL da API do Kentro',
  'body.kentro.queue_id': 'Fila do Kentro',
  'body.kentro.pipeline_ids': 'Pipelines do Kentro',
  'body.kentro.stage_id': 'Etapa do Kentro',
  'body.presencabank.url': 'URL do PresençaBank',
  'body.presencabank.login': 'Login do PresençaBank',
  'querystring.valor': 'Valor da parcela',
  'querystring.prazo': 'Prazo',
}

/** What to tell the person about a failure: the server's field errors by name, else its message. @param {unknown} err */
export function explain (err) {
  if (!(err instanceof ApiError)) return 'Erro inesperado na página: ' + String(err instanceof Error ? err.message : err)
  const campos = err.details?.campos
  if (campos && campos.length) return campos.map((c) => (FIELD_NAMES[c.campo] ?? c.campo) + ': ' + c.erro).join('; ') + '.'
  return err.message
}
