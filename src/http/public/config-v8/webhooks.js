// @ts-check
/** The webhooks card: V8's registration of this port, events received, and the deliveries to the client's CALLBACK_URL. */
import { ApiError, explain } from './api.js'
import { $, alertBox, badge, button, describeAge, setText, show } from './dom.js'
import { call, run } from './session.js'

/**
 * @typedef {{tipo: string, status: string, registrado_em: string | null, ultimo_erro: string | null, teste_recebido_em: string | null, confirmado_em: string | null}} Registro
 * @typedef {{v8: {configurado: boolean, url: {consult: string, operation: string} | null, registros: Registro[], recusados: number, eventos: {pendentes: number, aplicados: number, ignorados: number, falhas: number, duplicados: number}}, callbacks: {configurado: boolean, url: string, tentativas_max: number, pendentes: number, enviando: number, entregues: number, mortos: number}}} Estado
 * @typedef {{evento_id: string, tipo: string, status: string, tentativas: number, ultimo_status_http: number | null, ultimo_erro: string | null, criado_em: string, proxima_tentativa_em: string | null}} Entrega
 */

/** @type {Record<string, string>} */
const STATUS = { registered: 'registrado', registering: 'registrando…', failed: 'falhou', not_configured: 'não configurado' }

/** @param {Registro | undefined} r @param {string | undefined} url */
function describeRegistration (r, url) {
  if (!r || r.status === 'not_configured') return 'Não configurado: defina PUBLIC_URL (e o login V8) no arquivo da porta; os resultados chegam por consulta periódica.'
  let text = (STATUS[r.status] ?? r.status) + (url ? ' em ' + url : '')
  if (r.status === 'registered') text += r.confirmado_em ? ' · confirmado pela V8 ' + describeAge(r.confirmado_em) : ' · aguardando a confirmação da V8'
  if (r.status === 'failed' && r.ultimo_erro) text += ' · ' + r.ultimo_erro + ' (nova tentativa automática)'
  return text
}

/** @param {string} text */
function cell (text) {
  const td = document.createElement('td')
  td.textContent = text
  return td
}

/** @param {Entrega[]} entregas */
function renderDeliveries (entregas) {
  const tbody = $('cb-rows')
  tbody.replaceChildren()
  for (const e of entregas) {
    const tr = document.createElement('tr')
    const when = new Date(e.criado_em)
    tr.append(cell(when.toLocaleString('pt-BR')), cell(e.tipo))
    const st = cell(e.status + (e.proxima_tentativa_em ? ' (nova tentativa ' + new Date(e.proxima_tentativa_em).toLocaleTimeString('pt-BR') + ')' : ''))
    st.className = 'st-' + e.status
    tr.append(st, cell(String(e.tentativas)), cell(e.ultimo_status_http ? 'HTTP ' + e.ultimo_status_http : (e.ultimo_erro ?? '—')))
    const action = document.createElement('td')
    if (e.status === 'morto') {
      const b = document.createElement('button')
      b.type = 'button'
      b.className = 'btn small'
      b.textContent = 'Reenviar'
      b.addEventListener('click', () => { void requeue(b, e.evento_id) })
      action.append(b)
    }
    tr.append(action)
    tbody.append(tr)
  }
  show($('cb-table'), entregas.length > 0)
  setText($('cb-empty'), entregas.length === 0 ? 'Nenhum evento enviado ainda.' : '')
}

/** @param {Estado} s */
function renderState (s) {
  const regs = s.v8.registros
  const registered = regs.length > 0 && regs.every((r) => r.status === 'registered')
  badge($('badge-v8hooks'), registered)
  if (!registered) setText($('badge-v8hooks'), 'Webhooks V8: ' + (s.v8.configurado ? 'pendente' : 'não configurado'))
  badge($('badge-callback'), s.callbacks.configurado)
  setText($('hook-consult'), describeRegistration(regs.find((r) => r.tipo === 'consult'), s.v8.url?.consult))
  setText($('hook-operation'), describeRegistration(regs.find((r) => r.tipo === 'operation'), s.v8.url?.operation))
  const ev = s.v8.eventos
  setText($('hook-events'), ev.aplicados + ' aplicados, ' + ev.ignorados + ' ignorados, ' + ev.pendentes + ' na fila, ' + ev.falhas + ' com falha, ' + ev.duplicados + ' repetidos pela V8')
  setText($('hook-refused'), s.v8.recusados === 0 ? 'nenhum desde o início' : s.v8.recusados + ' desde o início (alguém tentando adivinhar o caminho, ou um registro antigo)')
  const c = s.callbacks
  setText($('cb-url'), c.configurado ? c.url : 'Não configurado: defina CALLBACK_URL (e CALLBACK_SECRET) no arquivo da porta.')
  setText($('cb-counts'), c.entregues + ' entregues, ' + (c.pendentes + c.enviando) + ' aguardando, ' + c.mortos + ' mortos (após ' + c.tentativas_max + ' tentativas)')
}

async function load () {
  const [s, d] = await Promise.all([call('GET', 'webhooks/estado'), call('GET', 'webhooks/entregas?limit=20')])
  renderState(s)
  renderDeliveries(d.entregas)
}

/** Show a failure in the card; a refused key goes up to the session. @param {unknown} err */
function fail (err) {
  if (err instanceof ApiError && err.status === 401) throw err
  alertBox($('hooks-alert'), 'error', explain(err))
}

/** @param {HTMLButtonElement} b @param {string} id */
async function requeue (b, id) {
  await run(b, 'Reenviando…', () => call('POST', 'webhooks/entregas/' + encodeURIComponent(id) + '/reenviar').then(async (r) => {
    alertBox($('hooks-alert'), 'success', r.message)
    await load()
  }, fail))
}

/** Load the card's data (also when the card is opened). */
export function renderWebhooks () {
  return load().catch(fail)
}

export function wireWebhooks () {
  $('card-hooks').addEventListener('toggle', () => {
    if (/** @type {HTMLDetailsElement} */ ($('card-hooks')).open) void run(null, null, () => renderWebhooks())
  })
  button('btn-hooks-refresh').addEventListener('click', () => { void run(button('btn-hooks-refresh'), 'Atualizando…', () => renderWebhooks()) })
  button('btn-hooks-register').addEventListener('click', () => {
    void run(button('btn-hooks-register'), 'Registrando…', () => call('POST', 'webhooks/registrar').then(async (r) => {
      alertBox($('hooks-alert'), 'info', r.message)
      await load()
    }, fail))
  })
}
