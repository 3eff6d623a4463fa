// @ts-check
/** The integrations card: Kentro and PresençaBank settings, secrets shown only as "definida". */
import { ApiError, explain } from './api.js'
import { $, alertBox, button, input, setText } from './dom.js'
import { call, run, state } from './session.js'

/** @param {import('./session.js').Overview} o */
export function renderIntegrations (o) {
  const k = o.kentro
  const p = o.presencabank
  input('kentro-url').value = k.api_url
  input('kentro-key').value = ''
  input('kentro-key').placeholder = k.api_key ? '•••••••• (definida)' : 'Não configurada'
  setText($('kentro-key-hint'), k.api_key ? 'Deixe em branco para manter a chave atual.' : '')
  input('kentro-queue').value = k.queue_id
  input('kentro-pipelines').value = k.pipeline_ids
  input('kentro-stage').value = k.stage_id
  input('presenca-url').value = p.url
  input('presenca-login').value = p.login
  input('presenca-senha').value = ''
  input('presenca-senha').placeholder = p.senha ? '•••••••• (definida)' : 'Não configurada'
  setText($('presenca-senha-hint'), p.senha ? 'Deixe em branco para manter a senha atual.' : '')
  renderFlowFacts(o.fluxo)
}

/** What the flow uses when nobody sent a value: read-only here, set in the tenant's config file. @param {import('./session.js').Overview['fluxo']} f */
function renderFlowFacts (f) {
  const gender = { M: 'Masculino (M), declarado por esta porta', F: 'Feminino (F), declarado por esta porta', '': 'Nenhum — CPF sem sexo conhecido recebe 422 (dados_faltantes)' }
  setText($('flow-gender'), gender[f.sexo_padrao])
  setText($('flow-gender-field'), f.campo_sexo_kentro || 'Nenhum (o formulário do Kentro não tem sexo)')
  setText($('flow-table'), { sem_seguro: 'Sem seguro primeiro', com_seguro: 'Com seguro primeiro' }[f.tabela_simulacao] ?? `Tabela “${f.tabela_simulacao}” primeiro`)
}

/** @param {(o: import('./session.js').Overview) => void} renderHeader @param {SubmitEvent} ev */
function onSave (renderHeader, ev) {
  ev.preventDefault()
  /** @type {{kentro: Record<string, string>, presencabank: Record<string, string>}} */
  const body = {
    kentro: {
      api_url: input('kentro-url').value.trim(),
      api_key: input('kentro-key').value,
      queue_id: input('kentro-queue').value.trim(),
      pipeline_ids: input('kentro-pipelines').value.trim(),
      stage_id: input('kentro-stage').value.trim(),
    },
    presencabank: {
      url: input('presenca-url').value.trim(),
      login: input('presenca-login').value.trim(),
      senha: input('presenca-senha').value,
    },
  }
  if (!body.kentro['pipeline_ids']) delete body.kentro['pipeline_ids']
  if (!body.kentro['stage_id']) delete body.kentro['stage_id']
  void run(button('btn-salvar-int'), 'Salvando…', () => call('POST', 'config/integracoes/salvar', body).then(
    (r) => {
      state.overview = r
      renderHeader(r)
      renderIntegrations(r)
      alertBox($('int-alert'), 'success', r.message)
    },
    (err) => {
      if (err instanceof ApiError && err.status === 401) throw err
      alertBox($('int-alert'), 'error', 'Não foi salvo: ' + explain(err))
    }
  ))
}

/** @param {(o: import('./session.js').Overview) => void} renderHeader */
export function wireIntegrations (renderHeader) {
  $('form-int').addEventListener('submit', (ev) => onSave(renderHeader, /** @type {SubmitEvent} */ (ev)))
}
