// @ts-check
/** Small DOM helpers: every datum is written with textContent (never as HTML). */

/**
 * The element with this id; the page's ids are fixed, so a missing one is a bug worth a loud error.
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @returns {T}
 */
export function $ (id) {
  const el = document.getElementById(id)
  if (!el) throw new Error('elemento ausente: #' + id)
  return /** @type {T} */ (el)
}

/** @param {string} id */
export const input = (id) => /** @type {HTMLInputElement} */ ($(id))

/** @param {HTMLElement} el @param {boolean} visible */
export function show (el, visible) { el.hidden = !visible }

/** @param {Element} el @param {unknown} text */
export function setText (el, text) { el.textContent = text == null ? '' : String(text) }

/** Show a message in an alert box; errors stay until dismissed or replaced. @param {HTMLElement} el @param {'error'|'success'|'info'} kind @param {string} text */
export function alertBox (el, kind, text) {
  el.className = 'alert ' + kind
  setText(el.querySelector('.alert-text') ?? el, text)
  show(el, true)
}

/** @param {HTMLElement} el */
export function clearAlert (el) { show(el, false) }

/** An on/off badge named by its data-name. @param {HTMLElement} el @param {boolean} on */
export function badge (el, on) {
  el.className = 'badge ' + (on ? 'on' : 'off')
  setText(el, (el.dataset['name'] ?? '') + (on ? ': configurado' : ': não configurado'))
}

/** "há 3 min" for an ISO time in the past, or null. @param {string | null | undefined} iso */
export function describeAge (iso) {
  if (!iso) return null
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))
  if (s < 60) return 'há ' + s + ' s'
  if (s < 3600) return 'há ' + Math.round(s / 60) + ' min'
  return 'há ' + Math.round(s / 3600) + ' h'
}

/** @param {number | null | undefined} s seconds */
export function describeDuration (s) {
  if (s == null) return ''
  if (s < 120) return s + ' s'
  if (s < 7200) return Math.round(s / 60) + ' min'
  return Math.round(s / 3600) + ' h'
}

/** @param {string} id */
export const button = (id) => /** @type {HTMLButtonElement} */ ($(id))
