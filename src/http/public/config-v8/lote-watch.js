// @ts-check
/** The batch being watched: progress bar, counts by outcome, pace, latest CPFs — live over SSE, at most one paint per frame. */
import { ApiError, explain } from './api.js'
import { $, alertBox, button, setText, show } from './dom.js'
import { follow } from './sse.js'
import { call, download, run, state, unauthorized } from './session.js'

/**
 * @typedef {{oferta: number, recusado: number, sem_margem: number, aguardando: number, erro: number, cancelado: number, na_fila: number, em_andamento: number}} PorResultado
 * @typedef {{lote_id: string, status: string, total: number, processados: number, sucessos: number, erros: number, cancelados: number, pendentes: number, em_andamento: number, por_resultado?: PorResultado, vazao_por_min?: number | null, restante_s?: number | null, banco?: string, arquivo?: string | null, created_at?: string, finished_at?: string | null}} Progress
 * @typedef {{cpf: string, status: string, etapa: string | null, erro?: string, mensagem?: string, resultado?: any}} Item
 */

const MAX_ITEMS = 30
/** A batch's state as the page says it (the list and the watched batch). */
export const STATUS_PT = /** @type {Record<string, string>} */ ({ PENDING: 'na fila', RUNNING: 'rodando', COMPLETED: 'concluído', CANCELLED: 'cancelado' })

/** @type {{ id: string | null, stream: { stop: () => void } | null, progress: Progress | null, queue: Item[], seen: Set<string>, frame: number, finished: boolean, onChange: () => void }} */
const w = { id: null, stream: null, progress: null, queue: [], seen: new Set(), frame: 0, finished: false, onChange: () => undefined }

/** `12345678909` → `***.***.*89-09`, as the logs mask it (the broker has the file; the screen need not show whole CPFs). @param {string} cpf */
const maskCpf = (cpf) => (/^\d{11}$/.test(cpf) ? '***.***.*' + cpf.slice(7, 9) + '-' + cpf.slice(9) : cpf)

/** @param {unknown} v */
const brl = (v) => (typeof v === 'number' || (typeof v === 'string' && v !== '') ? Number(v).toLocaleString('pt-BR', { style: 'currency', currency: 'BRL' }) : '')

/** @param {number | null | undefined} s */
function inWords (s) {
  if (s == null) return 'calculando…'
  if (s < 60) return 'menos de 1 min'
  if (s < 3600) return Math.round(s / 60) + ' min'
  return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min'
}

/** What one CPF came to, in a line. @param {Item} i */
function describe (i) {
  const r = i.resultado
  if (i.status === 'SUCCESS') {
    if (r && r.origem === 'PRESENCABANK') return { kind: 'ok', text: 'margem ' + brl(r.margem?.disponivel) }
    const s = r?.simulacao_resultado
    return { kind: 'ok', text: s ? 'oferta: ' + s.numero_parcelas + 'x de ' + brl(s.valor_parcela) + (s.valor_liberado != null ? ' · liberado ' + brl(s.valor_liberado) : '') : 'oferta' }
  }
  if (i.erro === 'sem_margem') return { kind: 'warn', text: 'sem margem' }
  return { kind: 'bad', text: (i.mensagem ?? i.erro ?? 'falhou') }
}

function paint () {
  w.frame = 0
  const p = w.progress
  if (p) {
    const done = p.processados + p.cancelados
    const pct = p.total > 0 ? Math.floor((done / p.total) * 100) : 0
    $('lw-bar-fill').style.width = pct + '%'
    $('lw-bar').setAttribute('aria-valuenow', String(pct))
    $('lw-bar').dataset['state'] = p.status
    setText($('lw-pct'), pct + ' %')
    setText($('lw-feitos'), done + ' de ' + p.total + ' CPFs')
    const st = $('lw-status')
    st.dataset['state'] = p.status
    setText(st, STATUS_PT[p.status] ?? p.status)
    const c = p.por_resultado
    if (c) {
      for (const k of /** @type {const} */ (['oferta', 'recusado', 'sem_margem', 'aguardando', 'erro'])) setText($('lw-c-' + k), c[k])
      setText($('lw-c-fila'), c.na_fila + c.em_andamento)
    }
    const finished = p.status === 'COMPLETED' || p.status === 'CANCELLED'
    setText($('lw-ritmo'), finished
      ? 'Lote ' + (STATUS_PT[p.status] ?? p.status) + '.'
      : (p.vazao_por_min != null ? p.vazao_por_min.toLocaleString('pt-BR') + ' CPFs/min · ' : '') + 'tempo restante: ' + inWords(p.restante_s) +
        (c && c.aguardando > 0 ? ' (inclui ' + c.aguardando + ' aguardando o banco)' : ''))
    // Its row in the batch list follows along (status and count), without re-reading the list.
    const row = document.querySelector('#lotes-rows tr[data-lote="' + p.lote_id + '"]')
    if (row) {
      row.children[1]?.setAttribute('data-state', p.status)
      const st = row.children[1]?.firstElementChild
      const n = row.children[2]?.firstElementChild
      if (st) setText(st, STATUS_PT[p.status] ?? p.status)
      if (n) setText(n, done + '/' + p.total)
    }
    show(button('btn-lw-cancelar'), !finished)
    show(button('btn-lw-repetir'), finished && p.erros > 0)
  }
  if (w.queue.length > 0) {
    const list = $('lw-itens')
    const fresh = w.queue.slice(-MAX_ITEMS)
    w.queue = []
    const frag = document.createDocumentFragment()
    for (const i of fresh.reverse()) {
      const d = describe(i)
      const li = document.createElement('li')
      li.className = 'it-' + d.kind
      const cpf = document.createElement('code')
      cpf.textContent = maskCpf(i.cpf)
      const text = document.createElement('span')
      text.textContent = d.text
      li.append(cpf, text)
      frag.append(li)
    }
    list.prepend(frag)
    while (list.children.length > MAX_ITEMS) list.lastElementChild?.remove()
  }
}

const schedule = () => { if (!w.frame) w.frame = window.requestAnimationFrame(paint) }

/** @param {'open' | 'reconnecting' | 'closed'} s */
function connection (s) {
  const el = $('lw-conexao')
  el.dataset['state'] = w.finished ? 'closed' : s
  setText(el, w.finished ? '' : s === 'open' ? 'Ao vivo' : s === 'reconnecting' ? 'Conexão perdida; reconectando…' : '')
}

/** Re-read the batch (counts by outcome, which `done` does not carry). @param {string} id */
async function reload (id) {
  const b = await call('GET', 'clt/lotes/' + encodeURIComponent(id) + '?limit=1')
  if (w.id !== id) return
  w.progress = b
  setText($('lw-titulo'), b.arquivo ? 'Lote · ' + b.arquivo : 'Lote ' + id.slice(0, 8))
  // PresençaBank answers a margin, not an offer.
  setText($('lw-c-oferta').previousElementSibling ?? $('lw-c-oferta'), b.banco === 'presencabank' ? 'Com margem' : 'Com oferta')
  setText($('lw-sub'), (b.banco === 'presencabank' ? 'PresençaBank' : 'V8') + ' · criado ' + new Date(b.created_at).toLocaleString('pt-BR') + ' · ' + b.total + ' CPFs')
  schedule()
}

/** Watch a batch (stops watching the previous one). @param {string} id @param {() => void} onChange called when the batch ends */
export async function watch (id, onChange) {
  stopWatching()
  w.id = id
  w.onChange = onChange
  w.seen = new Set()
  w.queue = []
  w.finished = false
  $('lw-itens').replaceChildren()
  show($('card-lote-atual'), true)
  if (window.location.hash !== '#lote=' + id) window.history.replaceState(null, '', '#lote=' + id)
  await reload(id)
  $('card-lote-atual').scrollIntoView({ block: 'nearest' })
  w.stream = follow('clt/lotes/' + encodeURIComponent(id) + '/eventos', state.key, {
    event: (name, data) => {
      if (w.id !== id) return
      if (name === 'item' && data && typeof data.cpf === 'string') {
        if (w.seen.has(data.cpf)) return
        w.seen.add(data.cpf)
        w.queue.push(data)
        if (w.queue.length > MAX_ITEMS * 4) w.queue = w.queue.slice(-MAX_ITEMS)
      } else if (name === 'progress') {
        w.progress = { ...w.progress, ...data }
      } else if (name === 'reconnect') {
        connection('reconnecting')
      } else if (name === 'done') {
        w.finished = true
        void reload(id).then(() => w.onChange(), () => undefined)
      }
      schedule()
    },
    state: connection,
    unauthorized,
  }, { isFinal: (name) => name === 'done' })
}

export function stopWatching () {
  w.stream?.stop()
  w.stream = null
  w.id = null
}

/** @param {'csv' | 'xlsx'} format */
async function save (format) {
  if (!w.id) return
  const { blob, name } = await download('clt/lotes/' + encodeURIComponent(w.id) + '/resultado.' + format)
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/** @param {unknown} err */
function fail (err) {
  if (err instanceof ApiError && err.status === 401) throw err
  alertBox($('main-alert'), 'error', explain(err))
}

/** @param {() => void} refreshList @param {(id: string) => void} open */
export function wireWatch (refreshList, open) {
  button('btn-lw-csv').addEventListener('click', () => { void run(button('btn-lw-csv'), 'Baixando…', () => save('csv').catch(fail)) })
  button('btn-lw-xlsx').addEventListener('click', () => { void run(button('btn-lw-xlsx'), 'Baixando…', () => save('xlsx').catch(fail)) })
  button('btn-lw-cancelar').addEventListener('click', () => {
    const id = w.id
    if (!id || !window.confirm('Cancelar o lote? Os CPFs que ainda não rodaram não serão consultados.')) return
    void run(button('btn-lw-cancelar'), 'Cancelando…', () => call('POST', 'clt/lotes/' + encodeURIComponent(id) + '/cancelar').then((r) => {
      alertBox($('main-alert'), 'info', r.message)
      refreshList()
    }, fail))
  })
  button('btn-lw-repetir').addEventListener('click', () => {
    const id = w.id
    if (!id) return
    void run(button('btn-lw-repetir'), 'Criando…', () => call('POST', 'clt/lotes/' + encodeURIComponent(id) + '/repetir-falhas').then((r) => {
      alertBox($('main-alert'), 'success', r.message)
      open(r.lote_id)
      refreshList()
    }, fail))
  })
}
