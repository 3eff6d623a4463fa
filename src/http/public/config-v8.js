/* clt-v8 config page: plain browser JS, no framework. Every datum is written with textContent (never innerHTML).
   The API key lives in sessionStorage for this tab only; it is sent as a Bearer header, never in a URL or cookie. */
'use strict'
;(function () {
  const KEY_STORAGE = 'clt-v8.api-key'
  const $ = function (id) { return document.getElementById(id) }

  const state = { key: null, overview: null, busy: false }

  // ---------- storage ----------
  function loadKey () {
    try { return window.sessionStorage.getItem(KEY_STORAGE) } catch (e) { return null }
  }
  function saveKey (k) {
    try { window.sessionStorage.setItem(KEY_STORAGE, k) } catch (e) { /* private mode: key kept in memory only */ }
  }
  function forgetKey () {
    state.key = null
    try { window.sessionStorage.removeItem(KEY_STORAGE) } catch (e) { /* ignore */ }
  }

  // ---------- API ----------
  function ApiError (status, code, message, details) {
    this.status = status
    this.code = code
    this.message = message
    this.details = details
  }

  /** One JSON call to this tenant's API; rejects with ApiError carrying the server's Portuguese message. */
  function api (method, path, body, key) {
    const headers = { accept: 'application/json', authorization: 'Bearer ' + (key || state.key || '') }
    const init = { method, headers, cache: 'no-store', credentials: 'omit' }
    if (body !== undefined) {
      headers['content-type'] = 'application/json'
      init.body = JSON.stringify(body)
    }
    return fetch(path, init).then(
      function (res) {
        return res.text().then(function (text) {
          let data = null
          try { data = text ? JSON.parse(text) : null } catch (e) { data = null }
          if (res.ok && data && data.success !== false) return data
          const code = data && typeof data.error === 'string' ? data.error : 'http_' + res.status
          const msg = data && typeof data.message === 'string' ? data.message : 'O serviço respondeu HTTP ' + res.status + '.'
          throw new ApiError(res.status, code, msg, data && data.details)
        })
      },
      function () {
        throw new ApiError(0, 'rede', 'Não foi possível falar com o serviço desta porta. Verifique a conexão e tente de novo.')
      }
    )
  }

  // ---------- small DOM helpers ----------
  function show (el, visible) { el.hidden = !visible }
  function setText (el, text) { el.textContent = text == null ? '' : String(text) }

  /** Show a message in an alert box; kind: error | success | info. Errors stay until dismissed or replaced. */
  function alertBox (el, kind, text) {
    el.className = 'alert ' + kind
    const span = el.querySelector('.alert-text') || el
    setText(span, text)
    show(el, true)
  }
  function clearAlert (el) { show(el, false) }

  /** Disable every button/input of the page while a request runs; the clicked button shows `label`. */
  function busy (on, button, label) {
    state.busy = on
    const controls = document.querySelectorAll('button, input')
    for (let i = 0; i < controls.length; i++) {
      const c = controls[i]
      if (c.classList.contains('dismiss')) continue
      c.disabled = on
    }
    document.body.classList.toggle('is-busy', on)
    if (button) {
      if (on) {
        button.dataset.label = button.textContent
        setText(button, label)
        button.classList.add('working')
      } else {
        if (button.dataset.label) setText(button, button.dataset.label)
        button.classList.remove('working')
      }
    }
  }

  /** Run one request with the page locked; a 401 sends the visitor back to the key screen. */
  function run (button, label, work) {
    if (state.busy) return Promise.resolve()
    busy(true, button, label)
    return Promise.resolve()
      .then(work)
      .catch(function (err) {
        if (err instanceof ApiError && err.status === 401) {
          forgetKey()
          showKeyView('A chave de API não é mais aceita por esta porta. Informe a chave correta.')
          return
        }
        throw err
      })
      .then(
        function () { busy(false, button) },
        function (err) { busy(false, button); throw err }
      )
  }

  function describeAge (iso) {
    if (!iso) return null
    const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))
    if (s < 60) return 'há ' + s + ' s'
    if (s < 3600) return 'há ' + Math.round(s / 60) + ' min'
    return 'há ' + Math.round(s / 3600) + ' h'
  }
  function describeDuration (s) {
    if (s == null) return ''
    if (s < 120) return s + ' s'
    if (s < 7200) return Math.round(s / 60) + ' min'
    return Math.round(s / 3600) + ' h'
  }

  // ---------- views ----------
  function showKeyView (message) {
    show($('view-main'), false)
    show($('reach'), false)
    show($('btn-sair'), false)
    show($('view-key'), true)
    $('api-key').value = ''
    if (message) alertBox($('key-error'), 'error', message)
    else clearAlert($('key-error'))
    $('api-key').focus()
  }

  function renderHeader (o) {
    setText($('tenant-line'), o.tenant + ' · porta ' + o.port + (o.environment && o.environment !== 'production' ? ' · ' + o.environment : ''))
    setText($('footer-line'), 'clt-v8 · ' + o.tenant + ' · porta ' + o.port)
    document.title = 'Configuração V8 · ' + o.tenant + ' (' + o.port + ')'
    const reach = $('reach')
    const t = o.v8.token
    let title, detail, st
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
    reach.dataset.state = st
    setText($('reach-title'), title)
    setText($('reach-detail'), detail)
    show(reach, true)
  }

  function renderCard (o) {
    const user = $('v8-user')
    const pass = $('v8-pass')
    const username = state.v8 ? state.v8.username : o.v8.username
    user.classList.toggle('empty', !username)
    setText(user, username || 'Não configurado')
    const hasPass = state.v8 && state.v8.password === '***'
    pass.classList.toggle('empty', !hasPass)
    setText(pass, hasPass ? '••••••••' : 'Não configurado')
  }

  function badge (el, on) {
    el.className = 'badge ' + (on ? 'on' : 'off')
    setText(el, (el.dataset.name || '') + (on ? ': configurado' : ': não configurado'))
  }

  function renderIntegrations (o) {
    const k = o.kentro
    const p = o.presencabank
    $('kentro-url').value = k.api_url
    $('kentro-key').value = ''
    $('kentro-key').placeholder = k.api_key ? '•••••••• (definida)' : 'Não configurada'
    setText($('kentro-key-hint'), k.api_key ? 'Deixe em branco para manter a chave atual.' : '')
    $('kentro-queue').value = k.queue_id
    $('kentro-pipelines').value = k.pipeline_ids
    $('kentro-stage').value = k.stage_id
    $('presenca-url').value = p.url
    $('presenca-login').value = p.login
    $('presenca-senha').value = ''
    $('presenca-senha').placeholder = p.senha ? '•••••••• (definida)' : 'Não configurada'
    setText($('presenca-senha-hint'), p.senha ? 'Deixe em branco para manter a senha atual.' : '')
  }

  function render () {
    const o = state.overview
    renderHeader(o)
    renderCard(o)
    show($('view-key'), false)
    show($('btn-sair'), true)
    show($('view-main'), true)
  }

  /** Fetch everything the page shows; `key` is tried first when given (the key screen). */
  function refresh (key) {
    return Promise.all([api('GET', 'config/tenant', undefined, key), api('GET', 'config/v8/atual', undefined, key)]).then(function (r) {
      state.overview = r[0]
      state.v8 = r[1].config
      render()
      return r
    })
  }

  // ---------- edit form ----------
  function openEdit () {
    $('v8-username').value = state.v8 ? state.v8.username : ''
    $('v8-password').value = ''
    setPasswordVisible(false)
    clearAlert($('edit-alert'))
    if ($('main-alert').classList.contains('success')) clearAlert($('main-alert'))
    show($('card-edit'), true)
    $('btn-editar').hidden = true
    ;($('v8-username').value ? $('v8-password') : $('v8-username')).focus()
  }
  function closeEdit () {
    show($('card-edit'), false)
    $('btn-editar').hidden = false
    $('v8-password').value = ''
  }
  function setPasswordVisible (on) {
    $('v8-password').type = on ? 'text' : 'password'
    setText($('btn-toggle-pw'), on ? 'Ocultar' : 'Mostrar')
    $('btn-toggle-pw').setAttribute('aria-pressed', on ? 'true' : 'false')
  }

  /** The form's values, or an error message when a field is obviously wrong (the server checks again). */
  function credentials () {
    const username = $('v8-username').value.trim()
    const password = $('v8-password').value
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(username)) return { error: 'Informe o e-mail do usuário da V8 (ex.: nome@empresa.com.br).', field: 'v8-username' }
    if (!password) return { error: 'Informe a senha.', field: 'v8-password' }
    return { username, password }
  }

  const FIELD_NAMES = {
    'body.username': 'E-mail',
    'body.password': 'Senha',
    'body.kentro.api_url': 'URL da API do Kentro',
    'body.kentro.queue_id': 'Fila do Kentro',
    'body.kentro.pipeline_ids': 'Pipelines do Kentro',
    'body.kentro.stage_id': 'Etapa do Kentro',
    'body.presencabank.url': 'URL do PresençaBank',
    'body.presencabank.login': 'Login do PresençaBank',
  }

  function explain (err) {
    if (!(err instanceof ApiError)) return 'Erro inesperado na página: ' + String(err && err.message ? err.message : err)
    const campos = err.details && err.details.campos
    if (campos && campos.length) {
      return campos.map(function (c) { return (FIELD_NAMES[c.campo] || c.campo) + ': ' + c.erro }).join('; ') + '.'
    }
    return err.message
  }

  function onTest () {
    const c = credentials()
    if (c.error) { alertBox($('edit-alert'), 'error', c.error); $(c.field).focus(); return }
    run($('btn-testar'), 'Testando…', function () {
      return api('POST', 'config/v8/testar', { username: c.username, password: c.password }).then(
        function (r) {
          const life = r.token_info && r.token_info.expires_in ? ' Token válido por ' + describeDuration(r.token_info.expires_in) + '.' : ''
          alertBox($('edit-alert'), 'success', 'Conexão OK: ' + r.message + life + ' Nada foi salvo ainda.')
        },
        function (err) {
          if (err.status === 401) throw err
          alertBox($('edit-alert'), 'error', 'Teste falhou: ' + explain(err))
        }
      )
    })
  }

  function onSave (ev) {
    ev.preventDefault()
    const c = credentials()
    if (c.error) { alertBox($('edit-alert'), 'error', c.error); $(c.field).focus(); return }
    run($('btn-salvar'), 'Salvando…', function () {
      return api('POST', 'config/v8/salvar', { username: c.username, password: c.password }).then(
        function (r) {
          closeEdit()
          return refresh().then(function () {
            alertBox($('main-alert'), 'success', r.message)
          })
        },
        function (err) {
          if (err.status === 401) throw err
          alertBox($('edit-alert'), 'error', 'Não foi salvo: ' + explain(err))
        }
      )
    })
  }

  function onVerify () {
    run($('btn-verificar'), 'Verificando…', function () {
      return api('POST', 'config/v8/verificar', {}).then(
        function () { return refresh() },
        function (err) {
          if (err.status === 401) throw err
          return refresh().then(function () {
            alertBox($('main-alert'), 'error', 'A V8 não respondeu com o login salvo: ' + explain(err))
          })
        }
      )
    })
  }

  function onSaveIntegrations (ev) {
    ev.preventDefault()
    const body = {
      kentro: {
        api_url: $('kentro-url').value.trim(),
        api_key: $('kentro-key').value,
        queue_id: $('kentro-queue').value.trim(),
        pipeline_ids: $('kentro-pipelines').value.trim(),
        stage_id: $('kentro-stage').value.trim(),
      },
      presencabank: {
        url: $('presenca-url').value.trim(),
        login: $('presenca-login').value.trim(),
        senha: $('presenca-senha').value,
      },
    }
    if (!body.kentro.pipeline_ids) delete body.kentro.pipeline_ids
    if (!body.kentro.stage_id) delete body.kentro.stage_id
    run($('btn-salvar-int'), 'Salvando…', function () {
      return api('POST', 'config/integracoes/salvar', body).then(
        function (r) {
          state.overview = r
          renderHeader(r)
          renderIntegrations(r)
          alertBox($('int-alert'), 'success', r.message)
        },
        function (err) {
          if (err.status === 401) throw err
          alertBox($('int-alert'), 'error', 'Não foi salvo: ' + explain(err))
        }
      )
    })
  }

  function onKey (ev) {
    ev.preventDefault()
    const key = $('api-key').value.trim()
    if (!key) { alertBox($('key-error'), 'error', 'Informe a chave de API.'); return }
    run($('btn-entrar'), 'Entrando…', function () {
      return refresh(key).then(
        function () {
          state.key = key
          saveKey(key)
          clearAlert($('key-error'))
          renderIntegrations(state.overview)
        },
        function (err) {
          const msg = err.status === 401 ? 'Chave de API incorreta para esta porta.' : explain(err)
          alertBox($('key-error'), 'error', msg)
          $('api-key').select()
        }
      )
    })
  }

  function onLogout () {
    forgetKey()
    closeEdit()
    clearAlert($('main-alert'))
    showKeyView(null)
  }

  // ---------- wiring ----------
  function wireDismiss () {
    const buttons = document.querySelectorAll('.alert .dismiss')
    for (let i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener('click', function (e) { clearAlert(e.currentTarget.parentElement) })
    }
  }

  function start () {
    wireDismiss()
    $('form-key').addEventListener('submit', onKey)
    $('btn-editar').addEventListener('click', openEdit)
    $('btn-cancelar').addEventListener('click', closeEdit)
    $('btn-toggle-pw').addEventListener('click', function () { setPasswordVisible($('v8-password').type === 'password') })
    $('btn-testar').addEventListener('click', onTest)
    $('form-v8').addEventListener('submit', onSave)
    $('btn-verificar').addEventListener('click', onVerify)
    $('form-int').addEventListener('submit', onSaveIntegrations)
    $('btn-sair').addEventListener('click', onLogout)

    const key = loadKey()
    if (!key) { showKeyView(null); return }
    state.key = key
    run(null, null, function () {
      return refresh().then(function () { renderIntegrations(state.overview) })
    }).catch(function (err) {
      showKeyView(explain(err))
    })
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
