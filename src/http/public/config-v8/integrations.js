// @ts-check
/** The integrations card: Kentro and PresençaBank settings (secrets shown only as "definida") and PresençaBank's state. */
import { ApiError, explain } from './api.js'
import { $, alertBox, button, describeAge, describeDuration, input, setText, show } from './dom.js'
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
  renderPresencaState(p)
  renderFlowFacts(o.fluxo)
}

/** Whether PresençaBank can work now: configured, token, last failure, pacing. @param {import('./session.js').Overview['presencabank']} p */
function renderPresencaState (p) {
  const e = p.estado
  const pace = 'Limite: ' + e.limite_por_minuto + ' chamadas/min' + (e.aguardando > 0 ? '; ' + e.aguardando + ' aguardando a vez' : '') + '.'
  let st, title, detail
  if (!p.configurado) {
    st = 'warn'; title = 'PresençaBank: não configurado'; detail = 'Informe login e senha para consultar elegibilidade e margem.'
  } else if (e.ultimo_erro) {
    const age = describeAge(e.ultimo_erro_em)
    st = 'error'; title = 'PresençaBank: falha no último acesso' + (age ? ' (' + age + ')' : ''); detail = e.ultimo_erro
  } else if (e.token_em_cache) {
    st = 'ok'; title = 'PresençaBank: acessível'; detail = 'Login válido; expira em ' + describeDuration(e.expira_em_s) + '. ' + pace
  } else {
    st = 'unknown'; title = 'PresençaBank: sem login no momento'; detail = 'Use “Verificar login” para testar o login salvo. ' + pace
  }
  const box = $('presenca-estado')
  box.dataset['state'] = st
  setText($('presenca-estado-titulo'), title)
  setText($('presenca-estado-detalhe'), detail)
  show($('btn-presenca-verificar'), p.configurado)
}

/** A login with the saved PresençaBank credentials, then the state re-read. @param {(o: import('./session.js').Overview) => void} renderHeader */
function onVerifyPresenca (renderHeader) {
  const reread = () => call('GET', 'config/tenant').then((o) => {
    state.overview = o
    renderHeader(o)
    renderPresencaState(o.presencabank)
  })
  void run(button('btn-presenca-verificar'), 'Verificando…', () => call('POST', 'config/presencabank/verificar', {}).then(
    async () => {
      await reread()
      alertBox($('int-alert'), 'success', 'O PresençaBank aceitou o login salvo.')
    },
    async (err) => {
      if (err instanceof ApiError && err.status === 401) throw err
      await reread()
      alertBox($('int-alert'), 'error', 'O PresençaBank não aceitou: ' + explain(err))
    }
  ))
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
  $('btn-presenca-verificar').addEventListener('click', () => onVerifyPresenca(renderHeader))
}
