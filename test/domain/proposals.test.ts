/** Proposal rules without HTTP: borrower fields and their sources, PIX keys by form, CRM account labels, status moves, a lost create answer. */
import t from 'tap'
import { pino } from 'pino'
import { openDatabase } from '../../src/db/database.js'
import { Outbox } from '../../src/domain/events/outbox.js'
import { FlowResultsRepository } from '../../src/domain/flow/results.js'
import { pixKey, PROPOSAL_FORM_KEYS, resolveProposalBorrower, type ResolveInput } from '../../src/domain/proposals/borrower.js'
import { proposalMessage } from '../../src/domain/proposals/message.js'
import { ProposalService } from '../../src/domain/proposals/service.js'
import { canMove } from '../../src/domain/proposals/statuses.js'
import { upstreamUnavailable } from '../../src/upstream/errors.js'
import { FORM_KEYS, type Opportunity } from '../../src/upstream/kentro.js'
import type { V8Operations } from '../../src/upstream/v8-operations.js'
import { testConfig } from '../fixtures/config.js'

const CPF = '38108380715'
const FLOW = { nome: 'MARIANA COSTA FERREIRA', cpf: CPF, telefone: '11987654321', data_nascimento: '1990-08-06', email: 'mariana@example.com', sexo: 'F' as const, origem: { nome: 'kentro' as const, email: 'v8' as const } }

function opp (forms: Record<string, unknown>): Opportunity {
  return { id: '40117', title: FLOW.nome, mainphone: '', mainmail: CPF, tags: [], formsdata: forms } as unknown as Opportunity
}

const FULL_CRM = {
  [FORM_KEYS.mother]: 'ANA COSTA FERREIRA  ',
  [FORM_KEYS.cep]: '04512-030 ',
  [FORM_KEYS.street]: 'Rua das Acacias',
  [FORM_KEYS.number]: '120',
  [FORM_KEYS.district]: 'Jardim Primavera',
  [FORM_KEYS.city]: 'Sao Paulo',
  [FORM_KEYS.state]: ' sp',
  [PROPOSAL_FORM_KEYS.document]: '30.123.456-7',
  [PROPOSAL_FORM_KEYS.pix]: CPF,
}

const input = (over: Partial<ResolveInput> = {}): ResolveInput => ({
  cpf: CPF,
  input: { estado_civil: 'Casada', pep: false, documento: { orgao_emissor: 'ssp', data_emissao: '10/03/2015' } },
  flow: FLOW,
  opp: opp(FULL_CRM),
  defaultNationality: 'Brasileira',
  now: Date.UTC(2026, 5, 1),
  ...over,
})

t.test('every field from the first source that has it, each with its source; nothing invented', async (t) => {
  const r = resolveProposalBorrower(input())
  if (!r.ok) throw new Error(JSON.stringify(r))
  t.match(r.borrower, {
    name: FLOW.nome,
    email: FLOW.email,
    phone: { country_code: '55', area_code: '11', number: '987654321' },
    mother_name: 'ANA COSTA FERREIRA',
    address: { street: 'Rua das Acacias', number: '120', complement: '', neighborhood: 'Jardim Primavera', city: 'Sao Paulo', state: 'SP', postal_code: '04512030' },
    birth_date: '1990-08-06',
    gender: 'female',
    marital_status: 'married',
    nationality: 'brazilian',
    document_identification_type: 'rg',
    document_identification_number: '301234567',
    document_issuer: 'SSP',
    document_identification_date: '2015-03-10',
    bank: { transfer_method: 'pix', pix_key: CPF, pix_key_type: 'cpf' },
    person_type: 'natural',
    political_exposition: false,
  }, 'normalized values')
  t.match(r.origem, { nome: 'kentro', email: 'v8', nome_mae: 'kentro', 'endereco.uf': 'kentro', 'documento.numero': 'kentro', 'documento.tipo': 'kentro', estado_civil: 'requisicao', nacionalidade: 'padrao_tenant', dados_bancarios: 'kentro', pep: 'requisicao' }, 'sources')
  t.notOk('work_data' in r.borrower, 'no employer data: none sent')
})

t.test('what no source has is listed with a reason; a caller’s bad value is an error, a CRM’s falls through', async (t) => {
  const r = resolveProposalBorrower(input({ input: { estado_civil: 'enrolado', documento: { data_emissao: '2030-01-01' } }, opp: opp({ [FORM_KEYS.state]: 'A - A A', [FORM_KEYS.cep]: '123' }), defaultNationality: '' }))
  if (r.ok) throw new Error('should fail')
  t.same(r.campos, ['nome_mae', 'endereco.cep', 'endereco.logradouro', 'endereco.numero', 'endereco.bairro', 'endereco.cidade', 'endereco.uf', 'documento.numero', 'documento.tipo', 'documento.orgao_emissor', 'documento.data_emissao', 'estado_civil', 'nacionalidade', 'pep', 'dados_bancarios'], 'all at once')
  t.match(r.motivos, { 'endereco.cep': 'CEP deve ter 8 dígitos', 'endereco.uf': /UF inválida/, estado_civil: /na requisição/, 'documento.data_emissao': /futuro \(na requisição\)/, 'endereco.numero': /S\/N/ }, 'reasons')
  const request = resolveProposalBorrower(input({ input: { ...input().input, endereco: { uf: 'XX' } } }))
  t.match(request, { ok: false, campos: ['endereco.uf'] }, "the request's bad UF is not replaced by the CRM's good one")
  const rgIsCpf = resolveProposalBorrower(input({ opp: opp({ ...FULL_CRM, [PROPOSAL_FORM_KEYS.document]: CPF }) }))
  t.match(rgIsCpf, { ok: false, motivos: { 'documento.numero': /tem o CPF, não o RG/ } }, 'the CRM Documento holding the CPF is not taken for an RG')
})

t.test('PIX keys by their form; the borrower’s own CPF and phone settle an 11-digit key', async (t) => {
  const own = { cpf: CPF, phone: '11987654321' }
  t.same(pixKey('381.083.807-15', own), { ok: true, value: { pix_key: CPF, pix_key_type: 'cpf' } }, 'CPF')
  t.same(pixKey('11987654321', own), { ok: true, value: { pix_key: '+5511987654321', pix_key_type: 'phone' } }, 'own phone digits → phone')
  t.same(pixKey('+55 (21) 99876-5432', own), { ok: true, value: { pix_key: '+5521998765432', pix_key_type: 'phone' } }, '+55 phone')
  t.same(pixKey('Maria@Example.com', own), { ok: true, value: { pix_key: 'maria@example.com', pix_key_type: 'email' } }, 'e-mail, lower-cased')
  t.same(pixKey('4FB8EF3F-C80D-4425-871D-C8F1C0FFFEBA', own), { ok: true, value: { pix_key: '4fb8ef3f-c80d-4425-871d-c8f1c0fffeba', pix_key_type: 'random' } }, 'random key')
  t.same(pixKey('11987654321', own, 'cpf'), { ok: false, motivo: 'a chave PIX não é um cpf válido' }, 'a declared type must match')
  t.same(pixKey('21998765432', own, 'telefone'), { ok: true, value: { pix_key: '+5521998765432', pix_key_type: 'phone' } }, 'telefone = phone')
  t.match(pixKey('NUBANK', own), { ok: false }, 'a bank name is not a key')
})

t.test('CRM account by its own labels (Agencia 7f6a0eb0, Conta 769db520); an account without its digit is never split by guess', async (t) => {
  const crm = { ...FULL_CRM, [PROPOSAL_FORM_KEYS.pix]: 'null', [PROPOSAL_FORM_KEYS.bank]: '341 - Itau', [PROPOSAL_FORM_KEYS.branch]: '0001', [PROPOSAL_FORM_KEYS.account]: '12345-6' }
  t.match(resolveProposalBorrower(input({ opp: opp(crm) })), { ok: true, borrower: { bank: { transfer_method: 'ted', bank_code: '341', branch_number: '0001', account_number: '12345', account_digit: '6' } } }, 'TED from the CRM')
  t.match(resolveProposalBorrower(input({ opp: opp({ ...crm, [PROPOSAL_FORM_KEYS.account]: '0010185906' }) })), { ok: false, campos: ['dados_bancarios'] }, 'no separate digit: asked for, not guessed')
  t.match(resolveProposalBorrower(input({ input: { ...input().input, conta: { banco: '001', agencia: '1234-5', conta: '998877', digito: 'x' } } })), { ok: true, borrower: { bank: { bank_code: '001', branch_number: '1234', account_number: '998877', account_digit: 'X' } }, origem: { dados_bancarios: 'requisicao' } }, 'the request’s account')
})

t.test('status moves: finals stay, paid may be refunded, unknown statuses from non-finals', async (t) => {
  t.ok(canMove('generating_ccb', 'formalization'), 'forward')
  t.ok(canMove('pending', 'analysis') && canMove('analysis', 'pending'), 'pending loops')
  t.notOk(canMove('paid', 'generating_ccb'), 'a late event never downgrades paid')
  t.ok(canMove('paid', 'refunded'), 'refund after payment')
  t.notOk(canMove('canceled', 'formalization') || canMove('rejected', 'analysis') || canMove('refunded', 'paid'), 'finals stay')
  t.notOk(canMove('formalization', 'formalization'), 'the same status is no move')
  t.ok(canMove('analysis', 'some_new_status'), 'a status V8 adds later is taken')
  t.notOk(canMove('formalization', 'generating_ccb') || canMove('pending', 'generating_ccb'), 'a late operation.created never sends a proposal back to the start')
  t.ok(canMove('criando', 'generating_ccb') && canMove('indefinida', 'generating_ccb'), 'the start, from our own statuses')
})

t.test('the WhatsApp text per status; the link only where it helps', async (t) => {
  const base = { id: 'p', cpf: CPF, operationId: 'o', simulationId: 's', consultId: null, opportunityId: null, version: 1, sent: {}, history: [], error: null, kentroStatus: null, kentroError: null, createdAt: 0, updatedAt: 0, contractNumber: null }
  const link = 'https://f.example.com/x'
  const f = proposalMessage({ ...base, status: 'formalization', formalizationUrl: link }, 'MARIANA COSTA')
  t.ok(f.mensagem.startsWith('Olá, Mariana!') && f.mensagem.includes(link), 'formalization: greeting and link')
  t.equal(f.status, 'proposta_formalization', 'status')
  t.notOk(proposalMessage({ ...base, status: 'paid', formalizationUrl: link }, null).mensagem.includes(link), 'paid: no signing link')
  for (const s of ['generating_ccb', 'analysis', 'manual_analysis', 'awaiting_call', 'pending', 'processing', 'paid', 'awaiting_cancel', 'canceled', 'refunded', 'rejected', 'criando', 'indefinida', 'recusada', 'sem_confirmacao', 'novo_status']) {
    t.ok(proposalMessage({ ...base, status: s, formalizationUrl: null }, null).mensagem.length > 30, `a text for ${s}`)
  }
})

t.test('a lost create answer: found later → adopted; not found after the grace → given up, then a new one goes', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  let now = Date.UTC(2026, 5, 1, 12)
  const config = testConfig(6999, { DEFAULT_NATIONALITY: 'brazilian' })
  const outbox = new Outbox(db, { now: () => now, tenant: () => ({ name: 't', port: 1 }), enabled: () => true })
  const results = new FlowResultsRepository(db)
  results.save({ cpf: CPF, status: 'SUCCESS', etapa: 'concluido', code: null, erro: null, details: null, consultId: 'c1', birthDateUsed: null, request: {}, kentroSynced: true, updatedAt: now, resultado: { sucesso: true, oportunidade_id: null, dados_validados: FLOW, termo_resultado: null, simulacao_resultado: { id_simulation: 'sim-1' }, status_termo: 'SUCCESS', motivo_falha: null } })
  const listed: Array<{ operationId: string; status: string; createdAt: string }> = []
  let creates = 0
  const ops = {
    create: async () => { creates++; throw upstreamUnavailable('V8', 'POST /operation', 'conexão interrompida') },
    findByCpf: async () => listed,
    get: async (id: string) => ({ id, status: 'formalization', contract_url: 'https://f/1', formalization_url: null, contract_number: 'MAG1', operation_history: [] }),
    bankId: async () => 'b',
  } as unknown as V8Operations
  const svc = new ProposalService({
    db,
    v8: { getConsult: async () => ({}) } as never,
    ops,
    kentro: { configured: false } as never,
    results,
    cache: { get: () => undefined },
    outbox,
    config: () => config,
    logger: pino({ level: 'silent' }),
    now: () => now,
  })
  const body = { pep: false, estado_civil: 'solteiro', nome_mae: 'ANA COSTA FERREIRA', documento: { tipo: 'rg', numero: '301234567', orgao_emissor: 'SSP', data_emissao: '2015-03-10' }, endereco: { cep: '04512030', logradouro: 'Rua A', numero: '1', bairro: 'B', cidade: 'C', uf: 'SP' }, pix: { chave: CPF } }
  await t.rejects(svc.create(CPF, body), { code: 'proposta_indefinida', statusCode: 503 }, 'lost, not found')
  await t.rejects(svc.create(CPF, body), { code: 'proposta_indefinida', statusCode: 409 }, 'within the grace: not resent')
  t.equal(creates, 1, 'sent once')
  listed.push({ operationId: 'op-late', status: 'generating_ccb', createdAt: new Date(now + 1000).toISOString() })
  const found = await svc.create(CPF, body)
  t.match(found, { created: false, proposal: { operationId: 'op-late', status: 'formalization', formalizationUrl: 'https://f/1' } }, 'found by the lookup, refreshed from the detail')
  t.equal(creates, 1, 'still sent once')
  const again = await svc.create(CPF, body)
  t.match(again, { created: false, proposal: { operationId: 'op-late' } }, 'the same simulation again: the same proposal')
  await t.rejects(svc.create(CPF, { ...body, id_simulacao: 'sim-2' }), { code: 'proposta_ativa', statusCode: 409 }, 'another simulation while one proposal is live: 409, cancel it first')

  // Another CPF-less case: a lost answer never found within the grace is given up and a new creation may go.
  db.prepare("UPDATE proposals SET status = 'canceled'").run()
  listed.length = 0
  await t.rejects(svc.create(CPF, body), { code: 'proposta_indefinida', statusCode: 503 }, 'lost again')
  now += 3 * 60_000
  await t.rejects(svc.create(CPF, body), { code: 'proposta_indefinida', statusCode: 503 }, 'after the grace: given up, a new creation sent (and lost too)')
  t.equal(creates, 3, 'a new creation only after the grace')
  t.equal(svc.list({ limit: 10, offset: 0 }).items.filter((p) => p.status === 'sem_confirmacao').length, 1, 'the given-up one is kept, final')
})
