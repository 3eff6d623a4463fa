/** One way to save config from the API: ConfigStore.update (atomic file write), errors as clear 400s, one audit row per save. */
import { ConfigError } from '../../config/errors.js'
import { EnvRewriteError, UnrepresentableValueError } from '../../config/env-file.js'
import type { ConfigKey } from '../../config/schema.js'
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

/**
 * Persist `changes` and record the save (keys only, never values). The store writes synchronously,
 * so concurrent saves in this process are serialized and the file is never half written.
 */
export function saveConfig (store: ConfigStore, audit: ConfigAudit, action: string, ip: string, changes: Partial<Record<ConfigKey, string>>): ConfigKey[] {
  let changed: ConfigKey[]
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
