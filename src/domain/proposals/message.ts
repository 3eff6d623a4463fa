/** Ready-to-send WhatsApp text (Portuguese) for a CPF's latest proposal: one per status, the formalization link when there is one. */
import { firstName } from '../message.js'
import type { Proposal } from './repository.js'

export interface ProposalMessage {
  status: string
  mensagem: string
  link_formalizacao: string | null
}

/** The text for the proposal; `nome` is the borrower's name as the flow validated it. */
export function proposalMessage (p: Proposal, nome: string | null | undefined): ProposalMessage {
  const name = firstName(nome ?? p.sent.borrower?.name)
  const hello = name ? `Olá, ${name}!` : 'Olá!'
  const calm = name ? `Olá, ${name}.` : 'Olá.'
  const link = p.formalizationUrl
  const signLines = link ? ['', `✍️ Assine pelo link: ${link}`, '', 'É rápido: confira os dados, tire a selfie quando pedir e confirme.'] : []
  const texts: Record<string, string[]> = {
    criando: [`${hello} Estamos gerando a sua proposta de crédito consignado CLT. Em instantes enviamos o link para assinatura.`],
    indefinida: [`${hello} Estamos confirmando a sua proposta de crédito consignado CLT com o banco. Em instantes enviamos o link para assinatura.`],
    generating_ccb: link
      ? [`${hello} Sua proposta de crédito consignado CLT foi criada! 🎉`, ...signLines]
      : [`${hello} Sua proposta de crédito consignado CLT foi criada e o contrato está sendo gerado. Em instantes enviamos o link para assinatura.`],
    formalization: link
      ? [`${hello} Seu contrato de crédito consignado CLT está pronto para assinatura. 📄`, ...signLines]
      : [`${hello} Seu contrato de crédito consignado CLT está pronto. Em instantes enviamos o link para assinatura.`],
    analysis: [`${hello} Recebemos a sua assinatura. ✅ Sua proposta está em análise; avisamos aqui assim que for aprovada.`],
    manual_analysis: [`${hello} Recebemos a sua assinatura. ✅ Sua proposta está em análise pela equipe do banco; avisamos aqui assim que terminar.`],
    awaiting_call: [`${hello} Falta pouco: o banco vai ligar para você para confirmar a contratação. Fique atento(a) ao telefone. 📞`],
    pending: [`${calm} Sua proposta de crédito consignado CLT tem uma pendência (dados bancários ou documentos). Responda esta mensagem que um atendente resolve com você.`],
    processing: [`${hello} Sua proposta foi aprovada! 🎉 O pagamento está sendo processado e o valor cai na sua conta em breve.`],
    paid: [`${hello} Pagamento realizado! 💰 O valor do seu crédito consignado CLT já foi enviado para a sua conta. Obrigado pela confiança!`],
    awaiting_cancel: [`${calm} Recebemos o pedido de cancelamento da sua proposta de crédito consignado CLT e ele está em processamento.`],
    canceled: [`${calm} Sua proposta de crédito consignado CLT foi cancelada. Se quiser fazer uma nova simulação, é só responder esta mensagem.`],
    refunded: [`${calm} O valor do seu crédito consignado CLT foi estornado. Responda esta mensagem se quiser falar com um atendente.`],
    rejected: [`${calm} Infelizmente sua proposta de crédito consignado CLT não foi aprovada na análise final do banco. Responda esta mensagem se quiser falar com um atendente.`],
    recusada: [`${calm} Não conseguimos registrar a sua proposta de crédito consignado CLT no banco. Um atendente vai verificar e falar com você por aqui.`],
    sem_confirmacao: [`${calm} Não conseguimos confirmar a sua proposta de crédito consignado CLT no banco. Um atendente vai verificar e falar com você por aqui.`],
  }
  const lines = texts[p.status] ?? [`${hello} Sua proposta de crédito consignado CLT está em andamento (${p.status}). Avisamos aqui a cada novidade.`]
  return { status: `proposta_${p.status}`, mensagem: lines.join('\n'), link_formalizacao: link }
}
