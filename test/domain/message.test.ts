/** WhatsApp texts for every outcome, and BRL formatting. */
import t from 'tap'
import type { FlowRecord } from '../../src/domain/flow/results.js'
import type { FlowResult } from '../../src/domain/flow/types.js'
import { firstName, formatBrl, whatsappMessage } from '../../src/domain/message.js'

t.test('formatBrl', async (t) => {
  t.equal(formatBrl(1234.56), 'R$ 1.234,56', 'thousands and cents')
  t.equal(formatBrl(0), 'R$ 0,00', 'zero')
  t.equal(formatBrl(5), 'R$ 5,00', 'units')
  t.equal(formatBrl(1234567.891), 'R$ 1.234.567,89', 'millions, rounded')
  t.equal(formatBrl(0.005), 'R$ 0,01', 'half a cent rounds up')
  t.equal(formatBrl(-42.5), '-R$ 42,50', 'negative')
})

t.test('firstName', async (t) => {
  t.equal(firstName('MARIA DA SILVA'), 'Maria', 'capitalized')
  t.equal(firstName('  ÉRICA  souza'), 'Érica', 'accent kept')
  t.equal(firstName(''), null, 'empty')
  t.equal(firstName(null), null, 'null')
})

const base: FlowResult = {
  sucesso: false,
  oportunidade_id: '1',
  dados_validados: { nome: 'JOAO PEREIRA', cpf: '52998224725', telefone: '11987654321', data_nascimento: '1990-01-01', email: 'j@x.com' },
  termo_resultado: null,
  simulacao_resultado: null,
  status_termo: null,
  motivo_falha: null,
}

function record (over: Partial<FlowRecord>, resultado: Partial<FlowResult> = {}): FlowRecord {
  return {
    cpf: '52998224725',
    status: 'FAILED',
    etapa: 'x',
    code: null,
    erro: null,
    details: null,
    consultId: 'c1',
    resultado: { ...base, ...resultado },
    birthDateUsed: null,
    request: {},
    kentroSynced: false,
    updatedAt: 0,
    ...over,
  }
}

t.test('offer', async (t) => {
  const m = whatsappMessage(
    record(
      { status: 'SUCCESS' },
      { sucesso: true, simulacao_resultado: { valor_liberado: 5432.1, numero_parcelas: 24, valor_parcela: 350, primeiro_vencimento: '2026-07-15' } }
    )
  )
  t.equal(m.status, 'oferta', 'status')
  t.match(m.mensagem, /Olá, Joao!/, 'greets by first name')
  t.match(m.mensagem, /Valor liberado: \*R\$ 5\.432,10\*/, 'valor liberado in BRL')
  t.match(m.mensagem, /24x de R\$ 350,00/, 'installments')
  t.match(m.mensagem, /15\/07\/2026/, 'first due date in Brazilian format')
})

t.test('waiting for consent vs in analysis', async (t) => {
  const consent = whatsappMessage(record({ status: 'PENDING' }, { status_termo: 'WAITING_CONSENT' }))
  t.equal(consent.status, 'aguardando_autorizacao', 'consent')
  t.match(consent.mensagem, /autoriza/, 'asks for the authorization')
  const analysis = whatsappMessage(record({ status: 'PENDING' }, { status_termo: 'WAITING_CONSULT' }))
  t.equal(analysis.status, 'em_analise', 'analysis')
  t.match(analysis.mensagem, /análise/, 'says in analysis')
})

t.test('refusals carry the reason and the next step', async (t) => {
  const birth = whatsappMessage(record({ code: 'termo_recusado' }, { status_termo: 'REJECTED', motivo_falha: 'Data de nascimento nao confere' }))
  t.equal(birth.status, 'recusado', 'rejected')
  t.match(birth.mensagem, /data de nascimento/, 'reason in plain Portuguese')
  t.match(birth.mensagem, /DD\/MM\/AAAA/, 'asks for the birth date')
  const other = whatsappMessage(record({ code: 'termo_recusado' }, { motivo_falha: 'CPF sem vínculo CLT ativo' }))
  t.match(other.mensagem, /Motivo: CPF sem vínculo CLT ativo\./, 'unknown reasons are quoted')
  t.match(other.mensagem, /atendentes/, 'offers a person')
  const margin = whatsappMessage(record({ code: 'sem_margem' }))
  t.equal(margin.status, 'sem_margem', 'no margin')
  t.match(margin.mensagem, /margem consignável/, 'explains margin')
  const missing = whatsappMessage(record({ code: 'dados_faltantes', details: { campos: ['data_nascimento', 'email'] } }, { dados_validados: null }))
  t.equal(missing.status, 'dados_faltantes', 'missing data')
  t.match(missing.mensagem, /^Olá! /, 'no name to greet with')
  t.match(missing.mensagem, /data de nascimento e e-mail/, 'lists what is needed')
  const none = whatsappMessage(record({ code: 'oportunidade_nao_encontrada' }, { dados_validados: null }))
  t.equal(none.status, 'sem_cadastro', 'no opportunity')
  const sim = whatsappMessage(record({ code: 'simulacao_recusada' }, { motivo_falha: 'valor acima da margem' }))
  t.equal(sim.status, 'sem_proposta', 'no simulation')
  t.match(sim.mensagem, /valor acima da margem/, 'reason')
  const young = whatsappMessage(record({ code: 'termo_nao_criado' }, { motivo_falha: 'Borrower must be at least 18 years old' }))
  t.equal(young.status, 'recusado', 'V8 refusing to open the consult is a refusal too')
  t.match(young.mensagem, /18 years/, 'with its reason')
  t.equal(whatsappMessage(record({ code: 'prazo_indisponivel' })).status, 'sem_proposta', 'no such prazo → no offer')
  const other2 = whatsappMessage(record({ code: 'termo_falhou' }))
  t.equal(other2.status, 'falha', 'technical failure')
})

t.test('no text carries raw internals', async (t) => {
  const m = whatsappMessage(record({ code: 'termo_recusado', erro: 'x' }, { motivo_falha: null }))
  t.notMatch(m.mensagem, /undefined|null|NaN/, 'no undefined/null/NaN in the text')
})
