// @ts-check
/** The V8 login card: masked view, edit form, "Testar conexão" (nothing saved), save, and "Verificar agora". */
import { ApiError, explain } from './api.js'
import { $, alertBox, button, clearAlert, describeDuration, input, setText, show } from './dom.js'
import { call, run, state } from './session.js'

/** Fill the card from the masked login the server holds. */
export function renderCard () {
  const user = $('v8-user')
  const pass = $('v8-pass')
  const username = state.v8 ? state.v8.username : (state.overview?.v8.username ?? '')
  user.classList.toggle('empty', !username)
  setText(user, username || 'Não configurado')
  const hasPass = state.v8?.password === '***'
  pass.classList.toggle('empty', !hasPass)
  setText(pass, hasPass ? '••••••••' : 'Não configurado')
}

function openEdit () {
  input('v8-username').value = state.v8 ? state.v8.username : ''
  input('v8-password').value = ''
  setPasswordVisible(false)
  clearAlert($('edit-alert'))
  if ($('main-alert').classList.contains('success')) clearAlert($('main-alert'))
  show($('card-edit'), true)
  $('btn-editar').hidden = true
  ;(input('v8-username').value ? $('v8-password') : $('v8-username')).focus()
}

export function closeEdit () {
  show($('card-edit'), false)
  $('btn-editar').hidden = false
  input('v8-password').value = ''
}

/** @param {boolean} on */
function setPasswordVisible (on) {
  input('v8-password').type = on ? 'text' : 'password'
  setText($('btn-toggle-pw'), on ? 'Ocultar' : 'Mostrar')
  $('btn-toggle-pw').setAttribute('aria-pressed', on ? 'true' : 'false')
}

/** The form's values, or what is obviously wrong (the server checks again). */
function credentials () {
  const username = input('v8-username').value.trim()
  const password = input('v8-password').value
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(username)) return { error: 'Informe o e-mail do usuário da V8 (ex.: nome@empresa.com.br).', field: 'v8-username' }
  if (!password) return { error: 'Informe a senha.', field: 'v8-password' }
  return { username, password }
}

/** @param {(err: unknown) => void} show an error the page handles itself; a 401 goes up to end the session */
const unless401 = (show) => (/** @type {unknown} */ err) => {
  if (err instanceof ApiError && err.status === 401) throw err
  show(err)
}

function onTest () {
  const c = credentials()
  if (c.error !== undefined) { alertBox($('edit-alert'), 'error', c.error); $(c.field).focus(); return }
  void run(button('btn-testar'), 'Testando…', () => call('POST', 'config/v8/testar', { username: c.username, password: c.password }).then(
    (r) => {
      const life = r.token_info?.expires_in ? ' Token válido por ' + describeDuration(r.token_info.expires_in) + '.' : ''
      alertBox($('edit-alert'), 'success', 'Conexão OK: ' + r.message + life + ' Nada foi salvo ainda.')
    },
    unless401((err) => alertBox($('edit-alert'), 'error', 'Teste falhou: ' + explain(err)))
  ))
}

/** @param {() => Promise<unknown>} refresh @param {SubmitEvent} ev */
function onSave (refresh, ev) {
  ev.preventDefault()
  const c = credentials()
  if (c.error !== undefined) { alertBox($('edit-alert'), 'error', c.error); $(c.field).focus(); return }
  void run(button('btn-salvar'), 'Salvando…', () => call('POST', 'config/v8/salvar', { username: c.username, password: c.password }).then(
    async (r) => {
      closeEdit()
      await refresh()
      alertBox($('main-alert'), 'success', r.message)
    },
    unless401((err) => alertBox($('edit-alert'), 'error', 'Não foi salvo: ' + explain(err)))
  ))
}

/** @param {() => Promise<unknown>} refresh */
function onVerify (refresh) {
  void run(button('btn-verificar'), 'Verificando…', () => call('POST', 'config/v8/verificar', {}).then(
    () => refresh(),
    unless401(async (err) => {
      await refresh()
      alertBox($('main-alert'), 'error', 'A V8 não respondeu com o login salvo: ' + explain(err))
    })
  ))
}

/** @param {() => Promise<unknown>} refresh re-reads everything the page shows */
export function wireLogin (refresh) {
  $('btn-editar').addEventListener('click', openEdit)
  $('btn-cancelar').addEventListener('click', closeEdit)
  $('btn-toggle-pw').addEventListener('click', () => setPasswordVisible(input('v8-password').type === 'password'))
  $('btn-testar').addEventListener('click', onTest)
  $('form-v8').addEventListener('submit', (ev) => onSave(refresh, /** @type {SubmitEvent} */ (ev)))
  $('btn-verificar').addEventListener('click', () => onVerify(refresh))
}
