/** Ready-to-send WhatsApp text (Portuguese) for a CPF's latest PresençaBank result: margin, waiting for the signature (with the link), or why not. */
import { firstName, formatBrl } from '../message.js'
import type { PresencaRecord } from './store.js'

export type PresencaMessageStatus =
  | 'margem_disponivel'
  | 'aguardando_assinatura'
  | 'em_analise'
  | 'nao_elegivel'
  | 'sem_margem'
  | 'tente_mais_tarde'
  | 'dados_faltantes'
  | 'falha'

const FIELD_PT: Record<string, string> = { nome: 'nome completo', telefone: 'seu celular com DDD' }

/** The fields of a result the text reads (a stored result, or a batch item's). */
type PresencaMessageSource = Pick<PresencaRecord, 'status' | 'resultado' | 'etapa' | 'code' | 'details'>

export function presencaWhatsappMessage (record: PresencaMessageSource): { status: PresencaMessageStatus; mensagem: string } {
  const r = record.resultado
  const name = firstName(r.dados_validados?.nome)
  const hello = name ? `Olá, ${name}!` : 'Olá!'
  const helloCalm = name ? `Olá, ${name}.` : 'Olá.'

  if (record.status === 'SUCCESS' && r.margem) {
    return {
      status: 'margem_disponivel',
      mensagem: [
        `${hello} Boa notícia: você tem margem para o crédito consignado CLT. 🎉`,
        '',
        `💰 Margem disponível: *${formatBrl(r.margem.disponivel)}* por mês`,
        '',
        'Com essa margem montamos a sua proposta, com as parcelas descontadas direto da folha de pagamento.',
        'Quer seguir? Responda *SIM* que enviamos as condições.',
      ].join('\n'),
    }
  }

  if (record.status === 'PENDING') {
    const link = r.termo?.link ?? null
    if (link && (r.termo?.assinatura === 'recusada' || r.termo?.assinatura === 'pendente' || record.etapa === 'aguardando_assinatura')) {
      return {
        status: 'aguardando_assinatura',
        mensagem:
          `${hello} Para consultar sua margem do consignado CLT, precisamos da sua autorização. É rápido: abra o link, ` +
          `marque a autorização e toque em *Enviar*:\n${link}\n\nAssim que autorizar, enviamos sua proposta por aqui.`,
      }
    }
    return {
      status: 'em_analise',
      mensagem: `${hello} Sua autorização foi registrada e a consulta da sua margem do consignado CLT está em andamento. Assim que tivermos a resposta, enviamos por aqui. 🙂`,
    }
  }

  switch (record.code) {
    case 'nao_elegivel':
    case 'sem_vinculo': {
      const why = record.code === 'sem_vinculo' ? 'não encontramos um vínculo de trabalho com carteira assinada (CLT) no seu CPF' : 'seu vínculo de trabalho não está elegível ao consignado CLT'
      return {
        status: 'nao_elegivel',
        mensagem: `${helloCalm} Consultamos seu crédito consignado CLT, mas no momento ${why}. Se você mudou de emprego há pouco, podemos consultar de novo mais adiante. Conte com a gente!`,
      }
    }
    case 'sem_margem':
      return {
        status: 'sem_margem',
        mensagem:
          `${helloCalm} Consultamos seu crédito consignado CLT: você está elegível, mas no momento não tem margem consignável disponível. ` +
          'A margem muda com o tempo (por exemplo, quando um empréstimo termina); podemos consultar de novo no próximo mês.',
      }
    case 'virada_de_folha':
      return {
        status: 'tente_mais_tarde',
        mensagem: `${helloCalm} A consulta do consignado CLT está fechada nestes dias por causa da virada da folha de pagamento. Consultamos de novo em alguns dias e retornamos por aqui.`,
      }
    case 'dados_faltantes':
    case 'telefone_em_uso': {
      const campos = Array.isArray(record.details?.['campos']) ? (record.details['campos'] as unknown[]).map(String) : []
      const wanted = campos.map((c) => FIELD_PT[c] ?? c)
      const own = record.code === 'telefone_em_uso' ? ' O número precisa ser do seu próprio celular.' : ''
      return {
        status: 'dados_faltantes',
        mensagem: `${hello} Para consultar seu crédito consignado CLT, precisamos de: ${wanted.length > 0 ? wanted.join(' e ') : 'alguns dados do seu cadastro'}.${own} Pode nos enviar respondendo esta mensagem?`,
      }
    }
    default:
      return {
        status: 'falha',
        mensagem: `${helloCalm} Tivemos uma instabilidade ao consultar seu crédito consignado CLT. Já estamos tentando de novo e retornamos em breve por aqui.`,
      }
  }
}
