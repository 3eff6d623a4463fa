/** Ready-to-send WhatsApp text (Portuguese) for a CPF's latest CLT-flow result: offer, waiting, or refusal + next step. */
import type { FlowRecord } from './flow/results.js'

export type MessageStatus =
  | 'oferta'
  | 'aguardando_autorizacao'
  | 'em_analise'
  | 'recusado'
  | 'sem_margem'
  | 'sem_proposta'
  | 'dados_faltantes'
  | 'sem_cadastro'
  | 'falha'

/** 1234.5 → `R$ 1.234,50` (plain spaces, so it reads the same in every WhatsApp client). */
export function formatBrl (value: number): string {
  const cents = Math.round(Math.abs(value) * 100)
  const int = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '.')
  return `${value < 0 && cents > 0 ? '-' : ''}R$ ${int},${String(cents % 100).padStart(2, '0')}`
}

/** `2026-07-15` → `15/07/2026`; anything else unchanged. */
function brDate (iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso)
  return m ? `${m[3]}/${m[2]}/${m[1]}` : iso
}

/** `MARIA DA SILVA` → `Maria`. */
export function firstName (nome: string | null | undefined): string | null {
  const first = nome?.trim().split(/\s+/)[0]
  if (!first) return null
  return first.charAt(0).toLocaleUpperCase('pt-BR') + first.slice(1).toLocaleLowerCase('pt-BR')
}

const FIELD_PT: Record<string, string> = {
  nome: 'nome completo',
  email: 'e-mail',
  telefone: 'celular com DDD',
  data_nascimento: 'data de nascimento',
  sexo: 'sexo (masculino ou feminino)',
}

const ANALYSIS = new Set(['CONSENT_APPROVED', 'WAITING_CONSULT', 'WAITING_CREDIT_ANALYSIS'])

function num (v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN
  return Number.isFinite(n) ? n : null
}

function listPt (items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} e ${items[items.length - 1]}`
}

/** The refusal reason in plain Portuguese and what the person can do about it. */
function refusal (reason: string | null): { motivo: string; proximo: string } {
  const r = (reason ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
  if (r.includes('nascimento')) {
    return {
      motivo: 'a data de nascimento do cadastro não confere com a do seu registro de trabalho',
      proximo: 'Pode nos confirmar sua data de nascimento (DD/MM/AAAA) respondendo esta mensagem? Com ela corrigida, refazemos a consulta.',
    }
  }
  return {
    motivo: reason?.trim() ? reason.trim() : 'a consulta não foi aprovada pela instituição',
    proximo: 'Se quiser, responda esta mensagem que um de nossos atendentes verifica com você o que pode ser feito.',
  }
}

/** The text for a stored flow outcome. */
/** The fields of a result the text reads (a stored flow result, or a batch item's). */
export type MessageSource = Pick<FlowRecord, 'status' | 'resultado' | 'code' | 'erro' | 'details'>

export function whatsappMessage (record: MessageSource): { status: MessageStatus; mensagem: string } {
  const r = record.resultado
  const name = firstName(r?.dados_validados?.nome)
  const hello = name ? `Olá, ${name}!` : 'Olá!'
  const helloCalm = name ? `Olá, ${name}.` : 'Olá.'

  if (record.status === 'SUCCESS' && r?.simulacao_resultado) {
    const s = r.simulacao_resultado
    const liberado = num(s['valor_liberado'])
    const parcelas = num(s['numero_parcelas'])
    const parcela = num(s['valor_parcela'])
    const firstDue = typeof s['primeiro_vencimento'] === 'string' ? s['primeiro_vencimento'] : null
    const lines = [
      `${hello} Boa notícia: seu crédito consignado CLT está pré-aprovado. 🎉`,
      '',
      ...(liberado !== null ? [`💰 Valor liberado: *${formatBrl(liberado)}*`] : []),
      ...(parcelas !== null && parcela !== null ? [`📅 Parcelas: *${parcelas}x de ${formatBrl(parcela)}*`] : []),
      ...(firstDue ? [`🗓️ Primeiro vencimento: ${brDate(firstDue)}`] : []),
      '',
      'As parcelas são descontadas direto da sua folha de pagamento.',
      'Quer seguir com a contratação? Responda *SIM* que enviamos o link para formalizar.',
    ]
    return { status: 'oferta', mensagem: lines.join('\n') }
  }

  if (record.status === 'PENDING') {
    const status = r?.status_termo ?? r?.termo_resultado?.status ?? null
    if (status !== null && ANALYSIS.has(status)) {
      return {
        status: 'em_analise',
        mensagem: `${hello} Sua consulta de crédito consignado CLT já está em análise. Assim que tivermos a resposta, enviamos sua proposta por aqui. 🙂`,
      }
    }
    return {
      status: 'aguardando_autorizacao',
      mensagem:
        `${hello} Para consultar sua margem do consignado CLT, precisamos da autorização da consulta aos seus dados de trabalho. ` +
        'Assim que ela for confirmada, enviamos sua proposta por aqui.',
    }
  }

  switch (record.code) {
    case 'dados_faltantes': {
      const campos = Array.isArray(record.details?.['campos']) ? (record.details['campos'] as unknown[]).map(String) : []
      const wanted = campos.map((c) => FIELD_PT[c] ?? c)
      return {
        status: 'dados_faltantes',
        mensagem: `${hello} Para consultar seu crédito consignado CLT, precisamos ${wanted.length ? `de: ${listPt(wanted)}` : 'completar seu cadastro'}. Pode nos enviar respondendo esta mensagem?`,
      }
    }
    case 'oportunidade_nao_encontrada':
      return {
        status: 'sem_cadastro',
        mensagem: `${hello} Ainda não encontramos seu cadastro para o crédito consignado CLT. Responda esta mensagem com seu nome completo que um atendente dá continuidade ao seu atendimento.`,
      }
    case 'termo_recusado':
    case 'termo_nao_criado': {
      const { motivo, proximo } = refusal(r?.motivo_falha ?? record.erro)
      return {
        status: 'recusado',
        mensagem: `${helloCalm} Infelizmente sua consulta de crédito consignado CLT não foi aprovada.\nMotivo: ${motivo}.\n\n${proximo}`,
      }
    }
    case 'sem_margem':
      return {
        status: 'sem_margem',
        mensagem:
          `${helloCalm} Consultamos seu crédito consignado CLT, mas no momento você não tem margem consignável disponível. ` +
          'A margem muda com o tempo (por exemplo, quando um empréstimo termina); podemos consultar de novo no próximo mês. Conte com a gente!',
      }
    case 'simulacao_recusada':
    case 'prazo_indisponivel':
      return {
        status: 'sem_proposta',
        mensagem:
          `${helloCalm} Sua consulta foi aprovada, mas não conseguimos montar uma proposta com as condições pedidas` +
          `${r?.motivo_falha ? ` (${r.motivo_falha})` : ''}. Responda esta mensagem que um atendente ajusta o valor ou o prazo com você.`,
      }
    default:
      return {
        status: 'falha',
        mensagem: `${helloCalm} Tivemos uma instabilidade ao consultar seu crédito consignado CLT. Já estamos tentando de novo e retornamos em breve por aqui.`,
      }
  }
}
