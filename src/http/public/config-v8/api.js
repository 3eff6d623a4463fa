// @ts-check
/** The tenant API as the page calls it: the key kept for this tab only, one JSON call, errors in Portuguese. */
import { answer, ApiError, bearer, keyStore, send } from './api-core.js'

export { ApiError }

/**
 * Where this tab keeps the key. Opened directly (http://host:6001/config-v8) it is `clt-v8.api-key`; through the fleet
 * console every tenant shares the console's origin, so the key is kept per path prefix (`clt-v8.api-key:/t/6000/`),
 * never handed to another tenant's page.
 */
const KEY_STORAGE = (() => {
  const prefix = window.location.pathname.replace(/config-v8\/?$/, '')
  return prefix === '/' ? 'clt-v8.api-key' : 'clt-v8.api-key:' + prefix
})()

export const { load: loadKey, save: saveKey, forget: forgetKey } = keyStore(KEY_STORAGE)

const SERVER = 'O serviço'
const UNREACHABLE = 'Não foi possível falar com o serviço desta porta. Verifique a conexão e tente de novo.'

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
  const headers = { accept: 'application/json', authorization: bearer(key) }
  /** @type {RequestInit} */
  const init = { method, headers }
  if (body !== undefined) {
    headers['content-type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  return answer(await send(path, init, UNREACHABLE), SERVER)
}

/**
 * Send a file's bytes (or pasted text) as the body, as the spreadsheet upload takes it.
 * @param {string} path @param {Blob | string} body @param {string | null} key
 * @returns {Promise<any>}
 */
export async function apiUpload (path, body, key) {
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : (body.type || 'application/octet-stream')
  return answer(await send(path, { method: 'POST', body, headers: { accept: 'application/json', authorization: bearer(key), 'content-type': type } }, UNREACHABLE), SERVER)
}

/**
 * A file from the API (the results), as a Blob with the name the server gave it.
 * @param {string} path @param {string | null} key
 * @returns {Promise<{blob: Blob, name: string}>}
 */
export async function apiDownload (path, key) {
  const res = await send(path, { method: 'GET', headers: { authorization: bearer(key) } }, UNREACHABLE)
  if (!res.ok) return answer(res, SERVER)
  const m = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')
  return { blob: await res.blob(), name: m ? m[1] ?? 'resultado' : 'resultado' }
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
