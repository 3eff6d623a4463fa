/** One way to save config from the API: ConfigStore.update (atomic file write), errors as clear 400s, one audit row per save. */
import { ConfigError } from '../../config/errors.js'
import { EnvRewriteError, UnrepresentableValueError } from '../../config/env-file.js'
import { urlProblem, type UrlProblem } from '../../config/address-policy.js'
import { UPSTREAM_URL_KEYS, type ConfigKey } from '../../config/schema.js'
import type { ConfigStore } from '../../config/store.js'
import type { ConfigAudit } from '../../domain/config-audit.js'
import { AppError, badRequest } from '../../errors.js'

/** How the page and the messages name each key a caller can change. */
export const KEY_LABELS: Partial<Record<ConfigKey, string>> = {
  V8_USERNAME: 'usuário da V8',
  V8_PASSWORD: 'senha da V8',
  KENTRO_API_URL: 'URL da API do Kentro',
  KENTRO_API_KEY: 'chave de API do Kentro',
  KENTRO_QUEUE_ID: 'fila (queueId) do Kentro',
  KENTRO_PIPELINE_IDS: 'pipelines do Kentro',
  KENTRO_STAGE_ID: 'etapa do Kentro',
  PRESENCABANK_URL: 'URL do PresençaBank',
  PRESENCABANK_LOGIN: 'login do PresençaBank',
  PRESENCABANK_PASSWORD: 'senha do PresençaBank',
}

const label = (key: string): string => KEY_LABELS[key as ConfigKey] ?? key

const URL_PROBLEM_PT: Record<UrlProblem, string> = {
  invalid: 'informe uma URL http(s)',
  not_https: 'use https',
  credentials: 'não inclua usuário ou senha na URL',
  loopback: 'não pode apontar para esta máquina (loopback)',
  private_address: 'não pode apontar para um endereço privado, link-local ou reservado',
}

/**
 * An upstream URL the API may set: https to a public host, or a host the operator put in UPSTREAM_ALLOWLIST.
 * Stricter than the file: even a sandbox tenant's page cannot point an upstream at loopback (only its file can).
 */
function checkUrlChanges (store: ConfigStore, changes: Partial<Record<ConfigKey, string>>): void {
  const current = store.get()
  for (const key of UPSTREAM_URL_KEYS) {
    const value = changes[key]
    if (value === undefined || value === '' || value === current[key]) continue
    const problem = urlProblem(value, { sandbox: false, allow: current.UPSTREAM_ALLOWLIST })
    if (problem) {
      throw badRequest('url_nao_permitida', `A ${label(key)} ${URL_PROBLEM_PT[problem]}; nada foi salvo.`, { campo: key, motivo: problem })
    }
  }
}

/**
 * Persist `changes` and record the save (keys only, never values). The store writes synchronously,
 * so concurrent saves in this process are serialized and the file is never half written.
 */
export function saveConfig (store: ConfigStore, audit: ConfigAudit, action: string, ip: string, changes: Partial<Record<ConfigKey, string>>): ConfigKey[] {
  let changed: ConfigKey[]
  checkUrlChanges(store, changes)
  try {
    changed = store.update(changes)
  } catch (err) {
    if (err instanceof UnrepresentableValueError && err.reason === 'control') {
      throw badRequest(
        'valor_nao_suportado',
        `O valor de ${label(err.key)} contém um caractere de controle ou de quebra de linha (${err.character ?? ''}); esses caracteres nunca são gravados. Remova-o e salve de novo.`,
        { campo: err.key, caractere: err.character ?? null }
      )
    }
    if (err instanceof EnvRewriteError) {
      // The file on disk holds something this writer cannot edit surgically (a hand edit): refuse, change nothing.
      throw new AppError(
        'arquivo_config_inconsistente',
        'O arquivo de configuração desta porta não pôde ser editado com segurança; nada foi salvo. Peça ao operador para conferir o arquivo (npm run tenant:check).',
        409
      )
    }
    if (err instanceof UnrepresentableValueError) {
      throw badRequest(
        'valor_nao_suportado',
        `O valor de ${label(err.key)} não pode ser gravado: ele mistura aspas simples ('), duplas (") e crases (\`), ou termina em barra invertida e também tem # ou espaços nas pontas. Mude um desses caracteres.`,
        { campo: err.key }
      )
    }
    if (err instanceof ConfigError) {
      // The loader's message starts with the file path; the caller needs only the key.
      throw badRequest('configuracao_invalida', `Valor inválido para ${label(err.key ?? '')}; nada foi salvo.`, { campo: err.key ?? null })
    }
    throw err
  }
  audit.record(action, ip, changed)
  return changed
}
