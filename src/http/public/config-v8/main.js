// @ts-check
/** clt-v8 config page: the key screen, the header with V8 reachability, and the wiring of each card. */
import { explain, loadKey, saveKey, forgetKey } from './api.js'
import { $, alertBox, badge, button, clearAlert, describeAge, describeDuration, input, setText, show } from './dom.js'
import { renderIntegrations, wireIntegrations } from './integrations.js'
import { closeEdit, renderCard, wireLogin } from './login.js'
import { renderLotes, showTab, tabFromHash, wireLotes } from './lotes.js'
import { stopWatching } from './lote-watch.js'
import { wireWebhooks } from './webhooks.js'
import { call, run, state, whenUnauthorized } from './session.js'
import { renderFrame } from './page-frame.js'

/** @param {string | null} message */
function showKeyView (message) {
  stopWatching()
  show($('view-main'), false)
  show($('reach'), false)
  show($('btn-sair'), false)
  show($('view-key'), true)
  input('api-key').value = ''
  if (message) alertBox($('key-error'), 'error', message)
  else clearAlert($('key-error'))
  $('api-key').focus()
}

/** @param {import('./session.js').Overview} o */
function renderHeader (o) {
  setText($('tenant-line'), o.tenant + ' · porta ' + o.port + (o.environment && o.environment !== 'production' ? ' · ' + o.environment : ''))
  setText($('footer-line'), 'clt-v8 · ' + o.tenant + ' · porta ' + o.port)
  document.title = 'Configuração V8 · ' + o.tenant + ' (' + o.port + ')'
  const t = o.v8.token
  let st, title, detail
  if (!o.v8.configurado) {
    st = 'warn'; title = 'V8: login não configurado'; detail = 'Defina usuário e senha abaixo.'
  } else if (t.cached) {
    st = 'ok'; title = 'V8: acessível'
    const age = describeAge(t.obtained_at)
    detail = (age ? 'Token obtido ' + age + '; ' : 'Token válido; ') + 'expira em ' + describeDuration(t.expires_in) + '.'
  } else if (t.last_error) {
    st = 'error'; title = 'V8: falha no último login'; detail = t.last_error
  } else {
    st = 'unknown'; title = 'V8: sem token no momento'; detail = 'Use “Verificar agora” para testar o login salvo.'
  }
  show($('btn-verificar'), o.v8.configurado)
  badge($('badge-kentro'), o.kentro.configurado)
  badge($('badge-presenca'), o.presencabank.configurado)
  const reach = $('reach')
  reach.dataset['state'] = st
  setText($('reach-title'), title)
  setText($('reach-detail'), detail)
  show(reach, true)
}

/** Fetch everything the page shows and render it; `key` is tried first when given (the key screen). @param {string} [key] */
async function refresh (key) {
  const [overview, atual] = await Promise.all([call('GET', 'config/tenant', undefined, key), call('GET', 'config/v8/atual', undefined, key)])
  state.overview = overview
  state.v8 = atual.config
  renderHeader(overview)
  renderLotes(overview)
  renderCard()
  show($('view-key'), false)
  show($('btn-sair'), true)
  show($('view-main'), true)
}

/** @param {SubmitEvent} ev */
function onKey (ev) {
  ev.preventDefault()
  const key = input('api-key').value.trim()
  if (!key) { alertBox($('key-error'), 'error', 'Informe a chave de API.'); return }
  void run(button('btn-entrar'), 'Entrando…', () => refresh(key).then(
    () => {
      state.key = key
      saveKey(key)
      clearAlert($('key-error'))
      if (state.overview) renderIntegrations(state.overview)
      showTab(tabFromHash())
    },
    (err) => {
      alertBox($('key-error'), 'error', err.status === 401 ? 'Chave de API incorreta para esta porta.' : explain(err))
      input('api-key').select()
    }
  ))
}

function onLogout () {
  stopWatching()
  state.key = null
  forgetKey()
  closeEdit()
  clearAlert($('main-alert'))
  showKeyView(null)
}

function start () {
  renderFrame({
    heading: 'Configuração do login V8',
    subtitleId: 'tenant-line',
    keyTitle: 'Acesso a esta porta',
    keyIntro: ['Informe a chave de API desta porta (', { code: 'API_KEY' }, ' do arquivo ', { code: 'tenants/config-<PORTA>.env' }, '). Ela fica guardada só nesta aba do navegador.'],
    keyLabel: 'Chave de API',
    keyInputId: 'api-key',
  })
  for (const b of document.querySelectorAll('.alert .dismiss')) {
    b.addEventListener('click', (e) => {
      const box = /** @type {HTMLElement} */ (e.currentTarget).parentElement
      if (box) clearAlert(box)
    })
  }
  whenUnauthorized(showKeyView)
  $('form-key').addEventListener('submit', (ev) => onKey(/** @type {SubmitEvent} */ (ev)))
  $('btn-sair').addEventListener('click', onLogout)
  wireLogin(() => refresh())
  wireIntegrations(renderHeader)
  wireWebhooks()
  wireLotes()

  const key = loadKey()
  if (!key) { showKeyView(null); return }
  state.key = key
  run(null, null, async () => {
    await refresh()
    if (state.overview) renderIntegrations(state.overview)
  }).then(() => { if (state.key) showTab(tabFromHash()) }, (err) => showKeyView(explain(err)))
}

// Module scripts run after the document is parsed.
start()
