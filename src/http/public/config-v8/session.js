// @ts-check
/** The page's session: the key, what the server last said, and one request at a time with the page locked. */
import { api, apiDownload, apiUpload, ApiError, forgetKey } from './api.js'
import { setText } from './dom.js'

/**
 * @typedef {object} PresencaState what the tenant knows of PresençaBank now
 * @property {boolean} token_em_cache
 * @property {number | null} expira_em_s
 * @property {string | null} ultimo_erro
 * @property {string | null} ultimo_erro_em
 * @property {number} limite_por_minuto
 * @property {number} aguardando
 */

/**
 * @typedef {object} Overview what GET /config/tenant answers (the fields the page reads)
 * @property {string} tenant
 * @property {number} port
 * @property {string} [environment]
 * @property {{configurado: boolean, username: string, token: {cached: boolean, expires_in: number | null, obtained_at: string | null, last_error: string | null}}} v8
 * @property {{configurado: boolean, api_url: string, api_key: boolean, queue_id: string, pipeline_ids: string, stage_id: string}} kentro
 * @property {{configurado: boolean, url: string, login: string, senha: boolean, estado: PresencaState}} presencabank
 * @property {{sexo_padrao: 'M' | 'F' | '', campo_sexo_kentro: string, tabela_simulacao: string}} fluxo
 */

export const state = {
  /** @type {string | null} */ key: null,
  /** @type {Overview | null} */ overview: null,
  /** @type {{username: string, password: '***' | ''} | null} */ v8: null,
  busy: false,
}

/** What the page does when the key stops being accepted (set by main.js). */
/** @type {(message: string) => void} */
let onUnauthorized = () => undefined

/** @param {(message: string) => void} fn */
export function whenUnauthorized (fn) { onUnauthorized = fn }

/** A call with the session's key (or `key` when given, from the key screen). @param {string} method @param {string} path @param {unknown} [body] @param {string | null} [key] */
export const call = (method, path, body, key) => api(method, path, body, key ?? state.key)

/** Upload a file or pasted text with the session's key. @param {string} path @param {Blob | string} body */
export const upload = (path, body) => apiUpload(path, body, state.key)

/** Download a file with the session's key. @param {string} path */
export const download = (path) => apiDownload(path, state.key)

/** The session's key ends: back to the key screen (a 401 from a call made outside `run`). */
export function unauthorized () {
  state.key = null
  forgetKey()
  onUnauthorized('A chave de API não é mais aceita por esta porta. Informe a chave correta.')
}

/** The controls the running request disabled. @type {Array<HTMLButtonElement | HTMLInputElement>} */
let locked = []

/** Disable every control while a request runs; the clicked button shows `label`. @param {boolean} on @param {HTMLButtonElement | null} button @param {string | null} [label] */
function lock (on, button, label) {
  state.busy = on
  if (on) {
    // Only what the lock disables is enabled again: a control disabled on purpose (or by the work) stays as it is.
    locked = []
    for (const c of document.querySelectorAll('button, input, select, textarea')) {
      const control = /** @type {HTMLButtonElement | HTMLInputElement} */ (c)
      if (control.classList.contains('dismiss') || control.disabled) continue
      control.disabled = true
      locked.push(control)
    }
  } else {
    for (const c of locked) c.disabled = false
    locked = []
  }
  document.body.classList.toggle('is-busy', on)
  if (!button) return
  if (on) {
    button.dataset['label'] = button.textContent ?? ''
    setText(button, label)
    button.classList.add('working')
  } else {
    if (button.dataset['label']) setText(button, button.dataset['label'])
    button.classList.remove('working')
  }
}

/**
 * Run one request with the page locked; a 401 ends the session and sends the person back to the key screen.
 * @param {HTMLButtonElement | null} button @param {string | null} label @param {() => Promise<unknown>} work
 */
export async function run (button, label, work) {
  if (state.busy) return
  lock(true, button, label)
  try {
    await work()
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) throw err
    state.key = null
    forgetKey()
    onUnauthorized('A chave de API não é mais aceita por esta porta. Informe a chave correta.')
  } finally {
    lock(false, button)
  }
}
