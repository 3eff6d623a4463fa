// @ts-check
/** One table row per tenant; every datum is written with textContent (never as HTML). */

/** @typedef {import('./api.js').TenantRow} TenantRow */

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string | null} [text]
 */
function el (tag, className, text) {
  const e = document.createElement(tag)
  if (className) e.className = className
  if (text != null) e.textContent = text
  return e
}

/** @param {'ok' | 'warn' | 'error' | 'muted'} kind @param {string} text */
const pill = (kind, text) => el('span', 'pill ' + kind, text)

/** "3 min", "2 h" for seconds. @param {number} s */
export function duration (s) {
  if (s < 120) return s + ' s'
  if (s < 7200) return Math.round(s / 60) + ' min'
  if (s < 172800) return Math.round(s / 3600) + ' h'
  return Math.round(s / 86400) + ' d'
}

/** "há 5 min" for an ISO time, or "—". @param {string | null} iso @param {number} now */
export function ago (iso, now) {
  if (!iso) return '—'
  return 'há ' + duration(Math.max(0, Math.round((now - Date.parse(iso)) / 1000)))
}

/** @param {string} status */
function pm2Pill (status) {
  if (status === 'online') return pill('ok', 'online')
  if (status === 'n/a') return pill('muted', 'n/a')
  if (status === 'errored' || status === 'stopped') return pill('error', status)
  return pill('warn', status)
}

/** @param {TenantRow} t */
function healthPill (t) {
  if (t.health === 'OK') return pill('ok', 'OK')
  if (t.health === 'DEGRADED') return pill('error', 'DEGRADED')
  return pill('error', 'sem resposta')
}

/**
 * @param {string} label
 * @param {string} [className]
 * @param {...(Node | string)} children
 */
function cell (label, className, ...children) {
  const td = el('td', className)
  td.dataset['label'] = label
  const box = el('div')
  for (const c of children) box.append(c)
  td.append(box)
  return td
}

/** @param {TenantRow} t @param {number} now */
export function tenantRow (t, now) {
  const tr = el('tr')
  tr.dataset['port'] = String(t.port)
  tr.dataset['health'] = t.health

  const port = cell('Porta', 'port', String(t.port))
  if (t.bad_port) port.firstElementChild?.append(el('span', 'note', 'o navegador recusa esta porta: abra por aqui'))
  tr.append(port)

  const name = cell('Nome', 'name', t.name)
  if (t.config === 'invalid') name.firstElementChild?.append(el('span', 'note', 'config inválida: ' + (t.config_error ?? '')))
  tr.append(name)

  const pm2 = cell('PM2', 'pm2', pm2Pill(t.pm2))
  if (t.restarts) pm2.firstElementChild?.append(el('span', 'note', t.restarts + (t.restarts === 1 ? ' reinício' : ' reinícios')))
  tr.append(pm2)

  const health = cell('Saúde', 'health', healthPill(t))
  if (t.uptime_s != null) health.firstElementChild?.append(el('span', 'note', 'no ar há ' + duration(t.uptime_s)))
  tr.append(health)

  tr.append(cell('Login V8', 'v8', t.v8_login == null ? pill('muted', '?') : t.v8_login ? pill('ok', 'definido') : pill('warn', 'não definido')))

  /** @type {(Node | string)[]} */
  const token = []
  if (!t.token) token.push('—')
  else if (!t.token.cached) token.push(pill('muted', 'sem token'))
  else {
    token.push(pill('ok', t.token.age_s != null ? 'obtido há ' + duration(t.token.age_s) : 'em cache'))
    if (t.token.expires_in != null) token.push(el('span', 'note', 'expira em ' + duration(t.token.expires_in)))
  }
  tr.append(cell('Token V8', 'token', ...token))

  tr.append(cell('Lotes', 'batches', t.batches ? t.batches.running + ' em execução' : '—', ...(t.batches && t.batches.pending ? [el('span', 'note', t.batches.pending + ' na fila')] : [])))
  tr.append(cell('Último erro', 'last-error', ago(t.last_error_at, now)))

  const page = /** @type {HTMLAnchorElement} */ (el('a', 'page-link', 'Configuração'))
  page.href = t.links.page
  const docs = /** @type {HTMLAnchorElement} */ (el('a', 'docs-link', 'API (docs)'))
  docs.href = t.links.docs
  tr.append(cell('Páginas', 'links', page, docs))
  return tr
}
