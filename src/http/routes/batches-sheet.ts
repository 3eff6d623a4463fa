/** Spreadsheet batch routes: upload (preview or start), results file (CSV/XLSX), failed rows as a new batch. */
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { BatchSheets } from '../../domain/batches/sheets.js'
import { AppError, bytesInWords } from '../../errors.js'
import { isBodyTooLarge } from '../errors.js'
import { pedidoOf, pedidoShape } from './clt-schemas.js'
import { createdMessage } from './batches.js'
import { batchView } from './batches-view.js'
import { batchNotFound, type BatchService } from '../../domain/batches/service.js'

export interface SheetRouteOptions {
  batches: BatchService
  sheets: BatchSheets
  maxBytes: number
}

const uploadQuery = z.object({
  previa: z.enum(['1', 'true', '0', 'false']).optional().transform((v) => v === '1' || v === 'true').describe('1 = só ler e mostrar a prévia, sem criar o lote'),
  tipo: z.enum(['arquivo', 'lista']).default('arquivo').describe('arquivo = CSV ou XLSX; lista = CPFs colados (separados por linha, vírgula, ponto e vírgula ou espaço)'),
  arquivo: z.string().max(255).optional().describe('Nome do arquivo, mostrado na lista de lotes'),
  coluna_cpf: z.string().max(100).optional().describe('Coluna do CPF (nome do cabeçalho ou número, a partir de 1) quando a escolha automática erra'),
  banco: z.enum(['v8', 'presencabank']).optional().describe('v8 (consulta e simulação, o padrão) ou presencabank (elegibilidade e margem)'),
  ...pedidoShape,
})

const idParams = z.object({ id: z.string().min(1).max(64) })

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

export const batchSheetRoutes: FastifyPluginAsync<SheetRouteOptions> = async (plain, { batches, sheets, maxBytes }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>()
  // In this scope only: every body is the file's bytes, whatever the browser calls its type (text/csv,
  // application/vnd.ms-excel for a CSV on Windows, the XLSX type, octet-stream). Its bytes say what it is.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

  /** POST /clt/lotes/planilha */
  app.post('/clt/lotes/planilha', {
    // The size rule, once: fastify refuses a body over the route's limit, on its declared Content-Length before
    // reading it, or as a chunked one arrives, keeping none of it. Either way the caller gets this same answer.
    bodyLimit: maxBytes,
    errorHandler: (err) => {
      throw isBodyTooLarge(err) ? new AppError('arquivo_grande_demais', `O arquivo é grande demais: o máximo é ${bytesInWords(maxBytes)}.`, 413, { maximo_bytes: maxBytes }) : err
    },
    schema: {
      tags: ['Lotes'],
      summary: 'Cria um lote a partir de uma planilha (CSV ou XLSX) ou de CPFs colados; com previa=1, só mostra o que seria lido',
      description:
        'Envie o arquivo como corpo da requisição (`curl --data-binary @clientes.csv`), com qualquer Content-Type. ' +
        `CSV com ";" ou ",", em UTF-8 ou Latin-1; XLSX (primeira planilha com dados). Até ${bytesInWords(maxBytes)} e BATCH_MAX_ITEMS linhas. ` +
        'A coluna do CPF é achada pelo nome (cpf, documento…) ou pelo conteúdo; colunas opcionais usadas por linha: nome, telefone/celular, ' +
        'data_nascimento, email, valor (da parcela) e prazo. As colunas do arquivo voltam no resultado e são apagadas com o lote (BATCH_RETENTION_DAYS).',
      querystring: uploadQuery,
    },
  }, async (req, reply) => {
    if (!Buffer.isBuffer(req.body)) throw new AppError('arquivo_ausente', 'Envie o arquivo como corpo da requisição.', 400)
    const q = req.query
    const upload = { data: req.body, kind: q.tipo, ...(q.arquivo ? { arquivo: q.arquivo } : {}), ...(q.coluna_cpf ? { colunaCpf: q.coluna_cpf } : {}) }
    if (q.previa) {
      const { preview } = await sheets.read(upload)
      return { success: true, previa: preview }
    }
    const { created, preview } = await sheets.start(upload, { ...pedidoOf(q), ...(q.banco ? { banco: q.banco } : {}) })
    const { batch, invalid } = created
    return reply.code(202).send({
      success: true,
      message: createdMessage(batch.total, invalid, created.duplicates),
      lote_id: batch.id,
      status: batch.status,
      total: batch.total,
      invalidos: invalid,
      duplicados: created.duplicates,
      previa: preview,
      status_url: `/clt/lotes/${batch.id}`,
      eventos_url: `/clt/lotes/${batch.id}/eventos`,
      resultado_url: `/clt/lotes/${batch.id}/resultado.csv`,
    })
  })

  for (const format of ['csv', 'xlsx'] as const) {
    /** GET /clt/lotes/:id/resultado.csv, /clt/lotes/:id/resultado.xlsx */
    app.get(`/clt/lotes/:id/resultado.${format}`, {
      schema: {
        tags: ['Lotes'],
        summary: `Resultado do lote em ${format.toUpperCase()}: uma linha por CPF (parcial enquanto o lote roda)`,
        description:
          'As colunas do arquivo enviado (ou `cpf`), depois: resultado (oferta — com margem no PresençaBank —, recusado, sem margem, aguardando o banco, erro, cancelado, na fila, em andamento), ' +
          'motivo, codigo, consulta_id, valor_parcela, parcelas, valor_liberado, taxa_mensal, margem_disponivel e mensagem_whatsapp. ' +
          (format === 'csv' ? 'CSV em UTF-8 com BOM, separado por ";" e com vírgula decimal (abre direto no Excel em português).' : 'XLSX com números como números.'),
        params: idParams,
        produces: [format === 'csv' ? 'text/csv' : XLSX_TYPE],
      },
    }, async (req, reply) => {
      // Read once and handed down; the export answers the same 404 if the batch is purged while it writes the file.
      const batch = batches.get(req.params.id)
      if (!batch) throw batchNotFound(req.params.id)
      const body = await sheets.export(batch, format)
      const name = `lote-${batch.id.slice(0, 8)}-${batch.finishedAt === null ? 'parcial' : 'resultado'}.${format}`
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : XLSX_TYPE)
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('cache-control', 'no-store')
        .send(body)
    })
  }

  /** POST /clt/lotes/:id/repetir-falhas */
  app.post('/clt/lotes/:id/repetir-falhas', {
    schema: { tags: ['Lotes'], summary: 'Cria um lote novo com os CPFs que falharam num lote terminado (mesmo banco, valor e prazo; linhas da planilha mantidas)', params: idParams },
  }, async (req, reply) => {
    const { batch } = await sheets.retryFailed(req.params.id)
    return reply.code(202).send({
      success: true,
      message: `Lote criado com os ${batch.total} CPFs que falharam.`,
      lote_id: batch.id,
      repete_lote: req.params.id,
      ...batchView(batch, batches.counts(batch.id)),
      status_url: `/clt/lotes/${batch.id}`,
      eventos_url: `/clt/lotes/${batch.id}/eventos`,
    })
  })
}
