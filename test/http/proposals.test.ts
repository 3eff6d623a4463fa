/**
 * Proposals against the sandbox: created from the approved simulation with CRM + request data (a 422 lists what is
 * missing), the sandbox's formalization link returned and carried by the WhatsApp text, moved by V8's events (never out
 * of a final status), announced to CALLBACK_URL and the CRM stage; cancel, pendencies; a lost create answer is found,
 * never sent twice.
 */
import t from 'tap'
import { waitFor } from '../fixtures/batches.js'
import { webhookTenant, type WebhookTenant } from '../fixtures/webhooks.js'
import type { SandboxPerson } from '../fixtures/sandbox.js'

const STAGES = { KENTRO_STAGE_BY_STATUS: 'formalization:31,paid:32,canceled:33', DEFAULT_NATIONALITY: 'brasileira' }
/** What the CRM never has: the borrower's declarations and the document's issuer and date. */
const DECLARED = { estado_civil: 'solteiro', pep: false, documento: { orgao_emissor: 'SSP', data_emissao: '2015-03-10' } }

async function offer (w: WebhookTenant, p: SandboxPerson): Promise<void> {
  const r = await w.post('/clt/fluxo-completo', { cpf: p.cpf })
  if (r.status !== 200) throw new Error(`flow ${r.status} ${JSON.stringify(r.body)}`)
}

const status = async (w: WebhookTenant, id: string): Promise<string> => (await w.get(`/clt/propostas/${id}`)).body.proposta.status

t.test('a proposal from the CRM and the request: the sandbox link, the WhatsApp text, events to paid', async (t) => {
  const w = await webhookTenant(t, { config: STAGES })
  await w.registered()
  const [p] = await w.sb.people('ok', 1)
  await offer(w, p!)

  const missing = await w.post('/clt/proposta', { cpf: p!.cpf })
  t.equal(missing.status, 422, 'missing data is a 422')
  t.match(missing.body, { error: 'dados_faltantes', details: { campos: ['documento.orgao_emissor', 'documento.data_emissao', 'estado_civil', 'pep'] } }, 'listing exactly what no source has (address, mother, RG and PIX came from the CRM)')
  t.equal((await w.sb.stats()).operations_created, 0, 'nothing was sent to V8')

  const created = await w.post('/clt/proposta', { cpf: p!.cpf, ...DECLARED })
  t.equal(created.status, 201, `created: ${JSON.stringify(created.body).slice(0, 300)}`)
  const { proposta_id: id, operacao_id: op, formalization_url: link } = created.body
  t.match(link, new RegExp(`^${w.sb.url}/__sandbox/formalizacao/${op}$`), "the sandbox's formalization link")
  t.equal(created.body.status, 'generating_ccb', 'V8 is generating the contract')
  t.match(created.body.proposta.origem, { nome_mae: 'kentro', 'endereco.cep': 'kentro', 'documento.numero': 'kentro', dados_bancarios: 'kentro', nacionalidade: 'padrao_tenant', estado_civil: 'requisicao', nome: 'kentro' }, 'every value says where it came from')
  const sent = w.sb.app.sandboxState.operations.get(op)!
  t.match(sent.borrower, { individual_document_number: p!.cpf, nationality: 'brazilian', marital_status: 'single', political_exposition: false, document_identification_type: 'rg', bank: { transfer_method: 'pix', pix_key: p!.cpf, pix_key_type: 'cpf' }, address: { postal_code: /^\d{8}$/, state: /^[A-Z]{2}$/ } }, 'what V8 received')
  t.match(sent.borrower, { work_data: { employer_name: String, employer_document_number: String, registration_number: String } }, "the consult's employer data as work_data")

  const msg = await w.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })
  t.equal(msg.body.status, 'proposta_generating_ccb', 'the message follows the proposal')
  t.ok(msg.body.mensagem.includes(link), 'the WhatsApp text carries the formalization link')
  t.equal(msg.body.link_formalizacao, link, 'and names it')

  const again = await w.post('/clt/proposta', { cpf: p!.cpf, ...DECLARED })
  t.match(again, { status: 200, body: { proposta_id: id } }, 'the same call again returns the same proposal')
  t.equal((await w.sb.stats()).operations_created, 1, 'one operation at V8')

  const formalization = await w.callback('formalization', (c) => c.tipo === 'proposta.status' && c.dados.proposta_id === id && c.dados.status === 'formalization')
  t.match(formalization.dados, { operacao_id: op, cpf: p!.cpf, status_anterior: 'generating_ccb', formalization_url: link }, 'pushed to the client')
  await waitFor('CRM stage 31', async () => (await w.sb.app.inject({ method: 'POST', url: '/kentro/int/getOpportunity', payload: { queueId: 25, apiKey: 'sandbox', id: p!.opportunityId } })).json().fkStage === 31, 10_000, 25)
  t.pass('the opportunity moved to the formalization stage')

  await w.sb.sign(op)
  await w.callback('paid', (c) => c.tipo === 'proposta.status' && c.dados.proposta_id === id && c.dados.status === 'paid')
  t.equal(await status(w, id), 'paid', 'paid')
  await waitFor('CRM stage 32', async () => (await w.sb.app.inject({ method: 'POST', url: '/kentro/int/getOpportunity', payload: { queueId: 25, apiKey: 'sandbox', id: p!.opportunityId } })).json().fkStage === 32, 10_000, 25)
  t.equal((await w.post('/clt/mensagem-whatsapp', { cpf: p!.cpf })).body.status, 'proposta_paid', 'the text says paid')

  // Out of order: V8's first event (generating_ccb) delivered again after paid.
  const { events } = await w.sb.webhooks()
  const createdEvent = events.find((e) => e.ref === op && e.status === 'generating_ccb')!
  await w.sb.replay(createdEvent.seq)
  await waitFor('replay applied', async () => (await w.get('/webhooks/estado')).body.v8.eventos.pendentes === 0, 10_000, 25)
  t.equal(await status(w, id), 'paid', 'a late generating_ccb does not downgrade paid')
  const history = (await w.get(`/clt/propostas/${id}`)).body.proposta.historico.map((h: { status: string }) => h.status)
  // processing lasts operation_delay_ms of real time: it shows when V8's event for it landed in between.
  t.same(history.filter((s: string) => s !== 'processing'), ['criando', 'generating_ccb', 'formalization', 'analysis', 'paid'], 'each status once, in order')
  const pushed = w.callbacks().filter((c) => c.tipo === 'proposta.status' && c.dados.proposta_id === id).map((c) => c.dados.status)
  t.same(pushed, history.slice(1), 'each change pushed once')

  t.match(await w.post(`/clt/propostas/${id}/cancelar`, { descricao: 'cliente desistiu' }), { status: 409, body: { error: 'proposta_nao_cancelavel' } }, 'a paid proposal cannot be canceled')
  const list = await w.get(`/clt/propostas?cpf=${p!.cpf}&status=paid`)
  t.match(list.body, { total: 1, propostas: [{ proposta_id: id, status: 'paid' }] }, 'listed by CPF and status')
  t.equal((await w.get('/clt/propostas?desde=2000-01-01&ate=2000-01-02')).body.total, 0, 'outside the period: none')
  t.match(await w.get(`/clt/propostas/${op}?atualizar=true`), { status: 200, body: { proposta: { proposta_id: id, status: 'paid', numero_contrato: /^MAG/ } } }, 'by V8 id, refreshed from the detail')
})

t.test('cancel, a pendency answered with a new PIX key, documents; the request fills what the CRM lacks', async (t) => {
  const w = await webhookTenant(t, { config: STAGES })
  await w.registered()
  const people = await w.sb.people('ok', 3)
  const p1 = people[1]!
  const p2 = people[2]!
  await offer(w, p1)
  await offer(w, p2)
  const noRg = await w.post('/clt/proposta', { cpf: p1.cpf, ...DECLARED })
  t.match(noRg.body.details?.campos, ['documento.numero', 'documento.tipo'], 'this CRM record has no RG: the caller must send it')
  const a = await w.post('/clt/proposta', { cpf: p1.cpf, ...DECLARED, documento: { ...DECLARED.documento, tipo: 'cnh', numero: '04512345678' } })
  t.equal(a.status, 201, 'created with the request’s document')
  t.match(a.body.proposta.origem, { dados_bancarios: 'kentro', 'documento.numero': 'requisicao' }, 'the CRM e-mail PIX key, the request’s document')
  t.equal(w.sb.app.sandboxState.operations.get(a.body.operacao_id)!.borrower['bank'] && (w.sb.app.sandboxState.operations.get(a.body.operacao_id)!.borrower['bank'] as { pix_key_type: string }).pix_key_type, 'email', 'a PIX key typed by its form')
  const cancel = await w.post(`/clt/propostas/${a.body.proposta_id}/cancelar`, { descricao: 'Cliente desistiu da contratação' })
  t.match(cancel, { status: 200, body: { proposta: { status: 'awaiting_cancel' } } }, 'cancel asked')
  await w.callback('canceled', (c) => c.tipo === 'proposta.status' && c.dados.proposta_id === a.body.proposta_id && c.dados.status === 'canceled')
  t.equal((await w.post('/clt/mensagem-whatsapp', { cpf: p1.cpf })).body.status, 'proposta_canceled', 'the text says canceled')

  const noBank = await w.post('/clt/proposta', { cpf: p2.cpf, ...DECLARED })
  t.match(noBank.body.details?.campos, ['dados_bancarios'], 'the CRM bank field holds a bank name only: not usable, not guessed')
  const b = await w.post('/clt/proposta', { cpf: p2.cpf, ...DECLARED, pix: { chave: p2.telefone } })
  t.equal(b.status, 201, 'created with the request’s PIX')
  const op = b.body.operacao_id
  t.match(w.sb.app.sandboxState.operations.get(op)!.borrower['bank'], { pix_key: `+55${p2.telefone}`, pix_key_type: 'phone' }, 'a phone key sent as +55…')
  await w.callback('formalization', (c) => c.dados.operacao_id === op && c.dados.status === 'formalization')
  await w.sb.operationStatus(op, 'pending')
  await w.callback('pending', (c) => c.dados.operacao_id === op && c.dados.status === 'pending')
  t.equal((await w.post('/clt/mensagem-whatsapp', { cpf: p2.cpf })).body.status, 'proposta_pending', 'the text asks to solve the pendency')
  const doc = await w.post(`/clt/propostas/${b.body.proposta_id}/documentos`, { tipo: 'selfie', nome_arquivo: 'selfie.jpg', content_type: 'image/jpeg', conteudo_base64: Buffer.from('JPEG').toString('base64') })
  t.equal(doc.status, 200, 'document passed through')
  t.equal(w.sb.app.sandboxState.operations.get(op)!.documents, 1, 'V8 got it')
  const pix = await w.post(`/clt/propostas/${b.body.proposta_id}/dados-bancarios`, { pix: { chave: p2.email } })
  t.equal(pix.status, 200, 'new PIX key passed through')
  await w.callback('back to analysis', (c) => c.dados.operacao_id === op && c.dados.status === 'analysis')
  const present = await w.post(`/clt/propostas/${b.body.proposta_id}/reapresentar`)
  t.match(present, { status: 422, body: { error: 'upstream_rejected', message: /no pendency/ } }, 'nothing to present: V8’s refusal in words')
  t.match(await w.post('/clt/propostas/nao-existe/cancelar', { descricao: 'xxx' }), { status: 404, body: { error: 'proposta_nao_encontrada' } }, 'unknown proposal')
  t.match(await w.post('/clt/proposta', { cpf: '11111111111' }), { status: 422, body: { error: 'cpf_invalido' } }, 'invalid CPF')
  t.match(await w.get('/v8/bancos'), { status: 200, body: { bancos: [{ codigo: '341', id: String }] } }, 'banks')
})

t.test('a lost create answer: found at V8 by CPF and date, never sent twice', async (t) => {
  const w = await webhookTenant(t, { config: STAGES })
  await w.registered()
  const [p, q] = await w.sb.people('ok', 2)
  await offer(w, p!)
  await offer(w, q!)
  await w.sb.faults({ routes: ['/private-consignment/operation'], methods: ['POST'], mode: 'reset', phase: 'after', count: 1 })
  const found = await w.post('/clt/proposta', { cpf: p!.cpf, ...DECLARED })
  t.equal(found.status, 201, `the answer was lost, the operation found: ${JSON.stringify(found.body).slice(0, 400)}`)
  t.match(found.body, { operacao_id: String, formalization_url: new RegExp(`/__sandbox/formalizacao/${found.body.operacao_id}$`) }, 'with its link (read from the detail)')
  t.equal((await w.sb.stats()).operations_by_cpf[p!.cpf], 1, 'one operation at V8')
  t.equal(found.body.proposta.historico.at(-1).origem, 'busca', 'adopted by the lookup')

  await w.sb.faults({ routes: ['/private-consignment/operation'], methods: ['POST'], mode: 'reset', phase: 'before', count: 1 })
  const lost = await w.post('/clt/proposta', { cpf: q!.cpf, ...DECLARED, documento: { ...DECLARED.documento, tipo: 'rg', numero: '123456789' } })
  t.match(lost, { status: 503, body: { error: 'proposta_indefinida' } }, 'not confirmed and not found: said so, not resent')
  const retry = await w.post('/clt/proposta', { cpf: q!.cpf, ...DECLARED, documento: { ...DECLARED.documento, tipo: 'rg', numero: '123456789' } })
  t.match(retry, { status: 409, body: { error: 'proposta_indefinida' } }, 'a second call looks it up first and waits out the grace')
  t.equal((await w.sb.stats()).operations_by_cpf[q!.cpf] ?? 0, 0, 'nothing was created twice (nor at all)')
})
