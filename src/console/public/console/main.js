// @ts-check
/** Entry module of the fleet console page: asks for the admin key, then lists the tenants and refreshes them. */
import { ApiError, fetchFleet, forgetKey, loadKey, saveKey } from './api.js'
import { renderFrame } from './page-frame.js'
import { tenantRow } from './render.js'

const REFRESH_MS = 10_000

/** @param {string} id */
function $ (id) {
  const e = document.getElementById(id)
  if (!e) throw new Error('elemento ausente: #' + id)
  return e
}

/** @type {string | null} */
let key = null
/** @type {number | undefined} */
let timer

/** @param {HTMLElement} box @param {string} text */
function showAlert (box, text) {
  const t = box.querySelector('.alert-text') ?? box
  t.textContent = text
  box.className = 'alert error'
  box.hidden = false
}

function showKeyView () {
  $('view-key').hidden = false
  $('view-main').hidden = true
  for (const id of ['btn-sair', 'btn-atualizar', 'updated']) $(id).hidden = true
  $('summary').textContent = 'clt-v8'
  const input = /** @type {HTMLInputElement} */ ($('admin-key'))
  input.focus()
}

/** @param {Awaited<ReturnType<typeof fetchFleet>>} fleet */
function render (fleet) {
  const now = Date.now()
  const rows = $('fleet-rows')
  rows.replaceChildren(...fleet.tenants.map((t) => tenantRow(t, now)))
  $('fleet').hidden = fleet.tenants.length === 0
  $('empty').hidden = fleet.tenants.length !== 0
  const ok = fleet.tenants.filter((t) => t.health === 'OK').length
  const problems = fleet.tenants.length - ok
  $('summary').textContent = fleet.tenants.length + (fleet.tenants.length === 1 ? ' tenant' : ' tenants') + ' · ' + ok + ' respondendo' + (problems ? ' · ' + problems + ' com problema' : '')
  const updated = $('updated')
  updated.textContent = 'atualizado ' + new Date(fleet.generated_at).toLocaleTimeString('pt-BR')
  updated.hidden = false
}

async function refresh () {
  if (!key) return
  const btn = /** @type {HTMLButtonElement} */ ($('btn-atualizar'))
  btn.disabled = true
  try {
    render(await fetchFleet(key))
    $('main-alert').hidden = true
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      forgetKey()
      key = null
      showKeyView()
      showAlert($('key-error'), 'A chave do console mudou ou está incorreta; informe-a de novo.')
      return
    }
    showAlert($('main-alert'), err instanceof Error ? err.message : String(err))
  } finally {
    btn.disabled = false
  }
}

/** @param {string} candidate */
async function enter (candidate) {
  const btn = /** @type {HTMLButtonElement} */ ($('btn-entrar'))
  btn.disabled = true
  try {
    const fleet = await fetchFleet(candidate)
    key = candidate
    saveKey(candidate)
    $('view-key').hidden = true
    $('key-error').hidden = true
    $('view-main').hidden = false
    for (const id of ['btn-sair', 'btn-atualizar']) $(id).hidden = false
    render(fleet)
    window.clearInterval(timer)
    timer = window.setInterval(() => { void refresh() }, REFRESH_MS)
  } catch (err) {
    forgetKey()
    showKeyView()
    showAlert($('key-error'), err instanceof Error ? err.message : String(err))
  } finally {
    btn.disabled = false
  }
}

renderFrame({
  heading: 'Console da frota',
  subtitleId: 'summary',
  keyTitle: 'Acesso ao console',
  keyIntro: ['Informe a chave de administração do console (', { code: 'npm run console:key' }, ' a mostra ao ser criada). Ela fica guardada só nesta aba do navegador. Não é a chave de nenhum tenant: a página de cada tenant pede a chave dele.'],
  keyLabel: 'Chave do console',
  keyInputId: 'admin-key',
})
$('form-key').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const input = /** @type {HTMLInputElement} */ ($('admin-key'))
  const value = input.value.trim()
  input.value = ''
  if (value) void enter(value)
})
$('btn-atualizar').addEventListener('click', () => { void refresh() })
$('btn-sair').addEventListener('click', () => {
  forgetKey()
  key = null
  window.clearInterval(timer)
  $('fleet-rows').replaceChildren()
  showKeyView()
})

const stored = loadKey()
if (stored) void enter(stored)
else showKeyView()
