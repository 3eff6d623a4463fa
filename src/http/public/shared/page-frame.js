// @ts-check
/**
 * What every clt-v8 page shows around its own content, drawn with DOM calls (no HTML strings) so its markup is
 * written once: the brand in the top bar, the Sair button, and the key screen the page opens with. The page's HTML
 * holds `<div class="brand" id="brand">`, `<div class="topbar-right">` and `<section id="view-main">`; the ids
 * drawn here are the pages' contract: #view-key, #form-key, the key input, #key-error, #btn-entrar, #btn-sair.
 */

/** @typedef {string | {code: string}} Words text, or a `<code>` element */

/**
 * @typedef {object} Frame
 * @property {string} heading the page's h1
 * @property {string} subtitleId id of the line under it, which the page updates ('clt-v8' until then)
 * @property {string} keyTitle heading of the key screen
 * @property {Words[]} keyIntro which key, and where the person finds it
 * @property {string} keyLabel
 * @property {string} keyInputId
 */

/**
 * @param {string} tag @param {Record<string, string | boolean>} attrs @param {Array<Node | string>} [children]
 * @returns {HTMLElement}
 */
function el (tag, attrs, children = []) {
  const e = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === true) e.setAttribute(name, '')
    else if (value !== false) e.setAttribute(name, value)
  }
  e.append(...children)
  return e
}

/** @param {string} selector */
function find (selector) {
  const e = document.querySelector(selector)
  if (!e) throw new Error('elemento ausente: ' + selector)
  return e
}

/** Draw the frame; call it before looking up any of its ids. @param {Frame} frame */
export function renderFrame (frame) {
  find('#brand').replaceChildren(
    el('span', { class: 'logo', 'aria-hidden': 'true' }, ['V8']),
    el('div', {}, [el('h1', {}, [frame.heading]), el('p', { class: 'subtitle', id: frame.subtitleId }, ['clt-v8'])])
  )
  find('.topbar-right').append(el('button', { type: 'button', class: 'btn small ghost', id: 'btn-sair', hidden: true }, ['Sair']))
  const intro = frame.keyIntro.map((w) => typeof w === 'string' ? w : el('code', {}, [w.code]))
  find('#view-main').before(el('section', { class: 'card narrow', id: 'view-key', hidden: true }, [
    el('h2', {}, [frame.keyTitle]),
    el('p', { class: 'muted' }, intro),
    el('form', { id: 'form-key', autocomplete: 'off' }, [
      el('label', { for: frame.keyInputId }, [frame.keyLabel]),
      el('input', { id: frame.keyInputId, name: frame.keyInputId, type: 'password', required: true, spellcheck: 'false', autocomplete: 'off' }),
      el('div', { class: 'alert error', id: 'key-error', role: 'alert', hidden: true }),
      el('div', { class: 'actions' }, [el('button', { type: 'submit', class: 'btn primary', id: 'btn-entrar' }, ['Entrar'])]),
    ]),
  ]))
}
