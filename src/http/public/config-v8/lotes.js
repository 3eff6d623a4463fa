// @ts-check
/** The "Lotes" tab: pick a spreadsheet (or paste CPFs), see the preview, start; the list of batches; which one is watched. */
import { ApiError, explain } from './api.js'
import { $, alertBox, button, clearAlert, input, setText, show } from './dom.js'
import { STATUS_PT, stopWatching, watch, wireWatch } from './lote-watch.js'
import { call, run, unauthorized, upload } from './session.js'

/**
 * @typedef {{linhas: number, validos: number, invalidos: number, duplicados: number, com_problema: number, coluna_cpf: {indice: number, nome: string, escolhida_por: string}, colunas_usadas: Record<string, string>, colunas: string[], tem_cabecalho: boolean, formato: string, codificacao: string | null, separador: string | null, exemplos: Array<{linha: number, cpf: string, situacao: string, detalhe?: string}>}} Previa
 */

const ROLE_PT = /** @type {Record<string, string>} */ ({ nome: 'nome', telefone: 'telefone', data_nascimento: 'data de nascimento', email: 'e-mail', valor: 'valor da parcela', prazo: 'prazo' })
const SITUACAO_PT = /** @type {Record<string, string>} */ ({ valido: 'válido', invalido: 'CPF inválido', duplicado: 'repetido (ignorado)', problema: 'não será consultado' })

/** What is about to be sent: the chosen file, or the pasted text. @type {{ file: File | null, previewed: boolean }} */
const pick = { file: null, previewed: false }

/** "Iniciar" only once this source's preview found a CPF to run (set after each request: the page lock re-enables buttons). */
const syncStart = () => { button('btn-lote-iniciar').disabled = !pick.previewed }

/** @returns {{ body: Blob | string, tipo: 'arquivo' | 'lista', nome: string } | null} */
function source () {
  const pasted = /** @type {HTMLTextAreaElement} */ ($('lote-colar')).value.trim()
  if (pick.file) return { body: pick.file, tipo: 'arquivo', nome: pick.file.name }
  if (pasted) return { body: pasted, tipo: 'lista', nome: '' }
  return null
}

/** The query of an upload: kind, file name, CPF column, bank, valor and prazo. @param {boolean} previa */
function query (previa) {
  const s = source()
  const q = new URLSearchParams()
  if (previa) q.set('previa', '1')
  q.set('tipo', s?.tipo ?? 'arquivo')
  if (s?.nome) q.set('arquivo', s.nome)
  const col = /** @type {HTMLSelectElement} */ ($('lote-coluna-cpf')).value
  if (pick.previewed && col) q.set('coluna_cpf', col)
  if (!previa) {
    q.set('banco', /** @type {HTMLSelectElement} */ ($('lote-banco')).value)
    const valor = input('lote-valor').value.trim()
    const prazo = input('lote-prazo').value.trim()
    if (valor) q.set('valor', valor)
    if (prazo) q.set('prazo', prazo)
  }
  return q.toString()
}

/** @param {unknown} err */
function fail (err) {
  if (err instanceof ApiError && err.status === 401) throw err
  alertBox($('lote-alert'), 'error', explain(err))
}

/** @param {Previa} p */
function renderPreview (p) {
  setText($('pv-linhas'), p.linhas)
  setText($('pv-validos'), p.validos)
  setText($('pv-invalidos'), p.invalidos)
  setText($('pv-duplicados'), p.duplicados)
  setText($('pv-problemas'), p.com_problema > 0 ? p.com_problema + ' linhas com valor ou prazo ilegível não serão consultadas (aparecem no resultado com o motivo).' : '')
  const sel = /** @type {HTMLSelectElement} */ ($('lote-coluna-cpf'))
  sel.replaceChildren(...p.colunas.map((c, i) => {
    const o = document.createElement('option')
    o.value = String(i + 1)
    o.textContent = c
    o.selected = i + 1 === p.coluna_cpf.indice
    return o
  }))
  show(sel, p.formato !== 'lista')
  setText($('pv-coluna-hint'), p.formato === 'lista'
    ? 'CPFs colados.'
    : (p.coluna_cpf.escolhida_por === 'nome' ? 'Escolhida pelo nome da coluna.' : p.coluna_cpf.escolhida_por === 'conteudo' ? 'Escolhida por ter mais CPFs válidos.' : 'Escolhida por você.') +
      ' Arquivo ' + p.formato.toUpperCase() + (p.codificacao ? ' · ' + p.codificacao.toUpperCase() : '') + (p.separador ? ' · separador "' + (p.separador === '\t' ? 'tab' : p.separador) + '"' : ''))
  const usadas = Object.entries(p.colunas_usadas)
  setText($('pv-usadas'), usadas.length ? 'Também usadas por linha: ' + usadas.map(([role, col]) => ROLE_PT[role] + ' (“' + col + '”)').join(', ') + '.' : p.formato === 'lista' ? '' : 'Nenhuma coluna opcional reconhecida (nome, telefone, data de nascimento, e-mail, valor, prazo).')
  $('pv-exemplos-rows').replaceChildren(...p.exemplos.map((e) => {
    const tr = document.createElement('tr')
    for (const text of [String(e.linha), e.cpf, (SITUACAO_PT[e.situacao] ?? e.situacao) + (e.detalhe ? ': ' + e.detalhe : '')]) {
      const td = document.createElement('td')
      td.textContent = text
      tr.append(td)
    }
    tr.className = 'pv-' + e.situacao
    return tr
  }))
  show($('lote-previa'), true)
}

async function preview () {
  const s = source()
  if (!s) { alertBox($('lote-alert'), 'error', 'Escolha um arquivo CSV ou XLSX, ou cole os CPFs.'); return }
  clearAlert($('lote-alert'))
  const r = await upload('clt/lotes/planilha?' + query(true), s.body)
  pick.previewed = r.previa.validos > 0
  renderPreview(r.previa)
}

function resetForm () {
  pick.file = null
  pick.previewed = false
  input('lote-arquivo').value = ''
  const pasted = /** @type {HTMLTextAreaElement} */ ($('lote-colar'))
  pasted.value = ''
  setText($('lote-arquivo-nome'), 'Escolher arquivo CSV ou XLSX')
  show($('lote-previa'), false)
}

async function startBatch () {
  const s = source()
  if (!s) return
  const r = await upload('clt/lotes/planilha?' + query(false), s.body)
  alertBox($('main-alert'), 'success', r.message)
  resetForm()
  await watch(r.lote_id, () => { void refreshList() })
  await refreshList()
}

/** @param {string} iso */
const when = (iso) => new Date(iso).toLocaleString('pt-BR', { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' })

async function refreshList () {
  const r = await call('GET', 'clt/lotes?limit=20')
  const rows = /** @type {any[]} */ (r.lotes).map((b) => {
    const tr = document.createElement('tr')
    const done = b.processados + b.cancelados
    /** @type {Array<[string, string]>} main line, detail line */
    const cells = [
      [b.arquivo ?? (b.origem === 'kentro' ? 'Kentro' : 'CPFs colados'), (b.banco === 'presencabank' ? 'PresençaBank' : 'V8') + ' · ' + when(b.created_at)],
      [STATUS_PT[b.status] ?? b.status, b.finished_at ? 'fim ' + when(b.finished_at) : ''],
      [done + '/' + b.total, b.erros > 0 ? b.erros + ' com falha' : ''],
    ]
    for (const [main, detail] of cells) {
      const td = document.createElement('td')
      const span = document.createElement('span')
      span.textContent = main
      td.append(span)
      if (detail) {
        const small = document.createElement('small')
        small.textContent = detail
        td.append(small)
      }
      tr.append(td)
    }
    tr.children[1]?.setAttribute('data-state', b.status)
    const td = document.createElement('td')
    const btn = document.createElement('button')
    btn.type = 'button'
    btn.className = 'btn small'
    btn.textContent = 'Abrir'
    btn.addEventListener('click', () => { open(b.lote_id) })
    td.append(btn)
    tr.append(td)
    tr.dataset['lote'] = b.lote_id
    return tr
  })
  $('lotes-rows').replaceChildren(...rows)
  show($('lotes-tabela'), rows.length > 0)
  setText($('lotes-vazio'), rows.length === 0 ? 'Nenhum lote ainda.' : '')
}

/** @param {string} id */
function open (id) {
  watch(id, () => { void refreshList() }).catch((err) => {
    if (err instanceof ApiError && err.status === 404) {
      window.history.replaceState(null, '', '#lotes')
      show($('card-lote-atual'), false)
      alertBox($('main-alert'), 'info', 'Esse lote não existe mais (apagado pelo prazo de retenção).')
    } else fail(err)
  })
}

/** @param {'config' | 'lotes'} tab */
export function showTab (tab) {
  for (const t of /** @type {const} */ (['config', 'lotes'])) {
    show($('tab-' + t), t === tab)
    $('tab-btn-' + t).setAttribute('aria-selected', String(t === tab))
  }
  if (tab === 'lotes') {
    const m = /^#lote=([\w-]{1,64})$/.exec(window.location.hash)
    if (!m && window.location.hash !== '#lotes') window.history.replaceState(null, '', '#lotes')
    // Not through `run`: the tab may open while another request holds the page lock (the key screen).
    refreshList().catch((err) => { if (err instanceof ApiError && err.status === 401) unauthorized(); else fail(err) })
    if (m && m[1]) open(m[1])
  } else {
    stopWatching()
    if (window.location.hash) window.history.replaceState(null, '', window.location.pathname + window.location.search)
  }
}

/** Which tab the address asks for (a reload while watching a batch comes back to it). */
export const tabFromHash = () => (/^#lote(s|=)/.test(window.location.hash) ? 'lotes' : 'config')

/** @param {import('./session.js').Overview} o */
export function renderLotes (o) {
  const opt = /** @type {HTMLOptionElement} */ ($('lote-banco').querySelector('option[value="presencabank"]'))
  opt.disabled = !o.presencabank.configurado
  opt.textContent = 'PresençaBank (margem)' + (o.presencabank.configurado ? '' : ': não configurado')
}

export function wireLotes () {
  $('tab-btn-config').addEventListener('click', () => showTab('config'))
  $('tab-btn-lotes').addEventListener('click', () => showTab('lotes'))
  const file = input('lote-arquivo')
  const chosen = () => {
    pick.file = file.files?.[0] ?? null
    pick.previewed = false
    show($('lote-previa'), false)
    button('btn-lote-iniciar').disabled = true
    setText($('lote-arquivo-nome'), pick.file ? pick.file.name + ' (' + Math.ceil(pick.file.size / 1024) + ' KB)' : 'Escolher arquivo CSV ou XLSX')
    if (pick.file) void run(button('btn-lote-previa'), 'Lendo…', () => preview().catch(fail)).then(syncStart)
  }
  file.addEventListener('change', chosen)
  const drop = $('lote-drop')
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over') })
  drop.addEventListener('dragleave', () => drop.classList.remove('over'))
  drop.addEventListener('drop', (e) => {
    e.preventDefault()
    drop.classList.remove('over')
    if (e.dataTransfer?.files.length) { file.files = e.dataTransfer.files; chosen() }
  })
  $('lote-colar').addEventListener('input', () => {
    if (pick.file) { pick.file = null; file.value = ''; setText($('lote-arquivo-nome'), 'Escolher arquivo CSV ou XLSX') }
    pick.previewed = false
    button('btn-lote-iniciar').disabled = true
  })
  $('lote-coluna-cpf').addEventListener('change', () => { void run(button('btn-lote-previa'), 'Lendo…', () => preview().catch(fail)).then(syncStart) })
  button('btn-lote-previa').addEventListener('click', () => { void run(button('btn-lote-previa'), 'Lendo…', () => preview().catch(fail)).then(syncStart) })
  $('form-lote').addEventListener('submit', (ev) => {
    ev.preventDefault()
    // The page lock re-enables every button after a request: without a preview of this source, show it first.
    if (!pick.previewed) void run(button('btn-lote-previa'), 'Lendo…', () => preview().catch(fail)).then(syncStart)
    else void run(button('btn-lote-iniciar'), 'Iniciando…', () => startBatch().catch(fail)).then(syncStart)
  })
  button('btn-lotes-atualizar').addEventListener('click', () => { void run(button('btn-lotes-atualizar'), 'Atualizando…', () => refreshList().catch(fail)) })
  wireWatch(() => { void refreshList().catch(fail) }, open)
}
