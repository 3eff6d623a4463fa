/** Batch routes (lotes): create from CPFs or a Kentro pipeline, list, read with items, stream events, cancel. */
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { batchNotFound, type BatchService, type CreateBatchInput } from '../../domain/batches/service.js'
import type { BatchSheets } from '../../domain/batches/sheets.js'
import type { Batch } from '../../domain/batches/types.js'
import { AppError, badRequest } from '../../errors.js'
import { clientKey } from '../auth.js'
import { parseEventId, StreamSlots, streamBatchEvents, type EventStreamOptions, type StreamLimits } from './batches-events.js'
import { SharedProgress } from './batches-progress.js'
import { pedidoOf, pedidoShape } from './clt-schemas.js'
import { batchView, itemView } from './batches-view.js'

/** Room for a few tens of thousands of CPFs; every other route keeps the app-wide limit. */
export const BATCH_BODY_LIMIT = 1024 * 1024

export interface BatchRouteOptions {
  batches: BatchService
  /** Counts by outcome and pace (absent in tests of the bare batch routes). */
  sheets?: Pick<BatchSheets, 'progress'>
  events?: EventStreamOptions
  /** EVENT_STREAMS_MAX / EVENT_STREAMS_PER_ADDRESS, read per stream (default: no limit). */
  streamLimits?: () => StreamLimits
}

/** How soon a refused stream should try again (a slot frees when any stream of the tenant or the client ends). */
const STREAM_RETRY_S = 10

const cpfList = z.union([
  z.array(z.union([z.string().max(64), z.number()])),
  // A pasted column: CPFs separated by line breaks, commas, semicolons or blanks.
  z.string().transform((s) => s.split(/[\s,;]+/).filter(Boolean)),
])

const createBody = z.object({
  cpfs: cpfList.optional(),
  origem: z.enum(['lista', 'kentro']).optional(),
  pipeline_id: z.coerce.number().int().positive().optional(),
  /** Which flow runs each CPF: v8 (consult + simulation, the default) or presencabank (eligibility + margin). */
  banco: z.enum(['v8', 'presencabank']).optional(),
  // The same amount and installment rules as POST /clt/fluxo-completo (valor = installment, "1500,50" accepted).
  ...pedidoShape,
})

const idParams = z.object({ id: z.string().min(1).max(64) })
const page = z.coerce.number().int().min(1).default(1)
const listQuery = z.object({ page, limit: z.coerce.number().int().min(1).max(100).default(20) })
const itemsQuery = z.object({
  page,
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  status: z.enum(['PENDING', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELLED']).optional(),
})

/** "1 CPF", "2 CPFs". */
const cpfs = (n: number): string => `${n} ${n === 1 ? 'CPF' : 'CPFs'}`

/** What a created batch holds: its items (invalid ones are stored as errors) and the repeated CPFs dropped from the list. */
export function createdMessage (total: number, invalid: number, duplicates: number): string {
  const notes = [
    ...(invalid > 0 ? [`${invalid} ${invalid === 1 ? 'inválido, registrado' : 'inválidos, registrados'} como erro`] : []),
    ...(duplicates > 0 ? [`${duplicates} ${duplicates === 1 ? 'repetido ignorado' : 'repetidos ignorados'}`] : []),
  ]
  return `Lote criado com ${cpfs(total)}${notes.length ? ` (${notes.join('; ')})` : ''}.`
}

export const batchRoutes: FastifyPluginAsync<BatchRouteOptions> = async (plain, { batches, sheets, events, streamLimits }) => {
  const progress = (id: string): Record<string, unknown> => (sheets ? { ...sheets.progress(id) } : {})
  /** The event streams' extras: one computation per change of a batch, however many streams watch it. */
  const shared = sheets ? new SharedProgress({ compute: progress, refreshMs: events?.progressRefreshMs, now: events?.now }) : undefined
  /** The file a spreadsheet batch came from: on the batch's own row, so a list of batches costs no query per batch. */
  const fileOf = ({ sheet }: Batch): Record<string, unknown> => (sheet ? { arquivo: sheet.arquivo, formato: sheet.formato } : {})
  const app = plain.withTypeProvider<ZodTypeProvider>()
  const streams = new Set<() => void>()
  const slots = new StreamSlots(streamLimits ?? (() => ({ total: Infinity, perAddress: Infinity })))
  // On shutdown (the composition root has already stopped batch claims): each open stream says `reconnect` and ends,
  // so the close can finish and the client resumes on the next process.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
    for (const stop of streams) stop()
  })

  /** POST /clt/lotes */
  app.post('/clt/lotes', { bodyLimit: BATCH_BODY_LIMIT, schema: { tags: ['Lotes'], summary: 'Cria um lote de CPFs (lista ou funil do Kentro) para o fluxo completo da V8 ou, com banco "presencabank", para elegibilidade e margem no PresençaBank', body: createBody } }, async (req, reply) => {
    const b = req.body
    let input: CreateBatchInput
    const common = { ...pedidoOf(b), ...(b.banco ? { banco: b.banco } : {}) }
    if (b.origem === 'kentro') {
      if (b.cpfs !== undefined) throw badRequest('requisicao_invalida', 'Envie "cpfs" ou "origem": "kentro" com "pipeline_id", não os dois.')
      if (b.pipeline_id === undefined) {
        throw badRequest('dados_faltantes', 'Informe "pipeline_id" para criar um lote a partir do Kentro.', { campos: ['pipeline_id'] })
      }
      input = { origem: 'kentro', pipeline_id: b.pipeline_id, ...common }
    } else {
      if (b.cpfs === undefined) throw badRequest('dados_faltantes', 'Informe "cpfs" (lista de CPFs) ou "origem": "kentro" com "pipeline_id".', { campos: ['cpfs'] })
      input = { origem: 'lista', cpfs: b.cpfs, ...common }
    }
    // Listing a Kentro pipeline can take seconds: stop it if the caller goes away. The REQUEST's 'close' is no sign
    // of that (Node emits it as soon as the body has been read); the RESPONSE closing before it was sent is.
    const abort = new AbortController()
    const onClose = (): void => {
      if (!reply.raw.writableFinished) abort.abort()
    }
    reply.raw.once('close', onClose)
    try {
      const { batch, invalid, duplicates } = await batches.create(input, abort.signal)
      return reply.code(202).send({
        success: true,
        message: createdMessage(batch.total, invalid, duplicates),
        lote_id: batch.id,
        status: batch.status,
        total: batch.total,
        invalidos: invalid,
        duplicados: duplicates,
        status_url: `/clt/lotes/${batch.id}`,
        eventos_url: `/clt/lotes/${batch.id}/eventos`,
      })
    } finally {
      reply.raw.off('close', onClose)
    }
  })

  /** GET /clt/lotes */
  app.get('/clt/lotes', { schema: { tags: ['Lotes'], summary: 'Lista os lotes, mais recentes primeiro', querystring: listQuery } }, async (req) => {
    const { page, limit } = req.query
    const { total, batches: list } = batches.list(limit, (page - 1) * limit)
    return { success: true, total, page, limit, lotes: list.map(({ batch, counts }) => ({ ...batchView(batch, counts), ...fileOf(batch) })) }
  })

  /** GET /clt/lotes/:id */
  app.get('/clt/lotes/:id', { schema: { tags: ['Lotes'], summary: 'Contagens e itens de um lote (paginado)', params: idParams, querystring: itemsQuery } }, async (req) => {
    const batch = batches.get(req.params.id)
    if (!batch) throw batchNotFound(req.params.id)
    const { page, limit, status } = req.query
    const items = batches.items(batch.id, { status, limit, offset: (page - 1) * limit })
    // Computed here, not taken from the streams' SharedProgress: its extras may be up to refreshMs old (another
    // process's writes send no local notification, and the pace follows the clock), and a GET answers as of now.
    return {
      success: true,
      ...batchView(batch, batches.counts(batch.id)),
      ...fileOf(batch),
      ...progress(batch.id),
      itens: items.items.map(itemView),
      itens_paginacao: { page, limit, total: items.total, ...(status ? { status } : {}) },
    }
  })

  /** GET /clt/lotes/:id/eventos */
  app.get('/clt/lotes/:id/eventos', { schema: { tags: ['Lotes'], summary: 'Progresso do lote em Server-Sent Events (progress, item, done; reconnect quando o serviço reinicia). Last-Event-ID retoma após o último item recebido', params: idParams } }, async (req, reply) => {
    const batch = batches.get(req.params.id)
    if (!batch) throw batchNotFound(req.params.id)
    // EventSource reconnects after the stream ends; once it has seen `done` there is nothing more to say.
    if (req.headers['last-event-id'] === 'done' && batch.finishedAt !== null) return reply.code(204).send()
    const slot = slots.take(clientKey(req.ip))
    if ('full' in slot) {
      throw new AppError(
        'muitos_streams',
        slot.full === 'address'
          ? `Este endereço já tem ${slot.limit} acompanhamentos de lote abertos; feche um ou tente de novo em ${STREAM_RETRY_S} s.`
          : `Esta porta já tem ${slot.limit} acompanhamentos de lote abertos; tente de novo em ${STREAM_RETRY_S} s.`,
        429,
        { maximo: slot.limit, limite: slot.full === 'address' ? 'endereco' : 'porta', retry_after_s: STREAM_RETRY_S }
      )
    }
    reply.hijack()
    let stream: ReturnType<typeof streamBatchEvents>
    try {
      // A reconnecting EventSource (or curl -H 'Last-Event-ID: …') continues after the last item it received.
      stream = streamBatchEvents(reply.raw, batches, batch.id, reply.getHeaders(), { ...events, progress: shared }, parseEventId(req.headers['last-event-id']))
    } catch (err) {
      slot.release()
      throw err
    }
    streams.add(stream.stop)
    void stream.done.then(() => {
      streams.delete(stream.stop)
      slot.release()
    })
    // A stream asked for while the server drains (a reconnect on a kept-alive connection to the stopping process)
    // would hang until the drain gives up: tell it to come back at once, and it reaches the next process.
    if (closing) stream.stop()
  })

  /** POST /clt/lotes/:id/cancelar */
  app.post('/clt/lotes/:id/cancelar', { schema: { tags: ['Lotes'], summary: 'Cancela os itens ainda pendentes do lote', params: idParams } }, async (req) => {
    const result = batches.cancel(req.params.id)
    if (!result) throw batchNotFound(req.params.id)
    const { batch } = result
    const message =
      batch.status === 'COMPLETED'
        ? 'O lote já estava concluído; nada a cancelar.'
        : result.inFlight > 0
          ? `Lote cancelado: ${cpfs(result.cancelled)} não ${result.cancelled === 1 ? 'será processado' : 'serão processados'}; ${result.inFlight} em andamento ${result.inFlight === 1 ? 'fica' : 'ficam'} com o resultado se ${result.inFlight === 1 ? 'terminar' : 'terminarem'} nesta tentativa, senão ${result.inFlight === 1 ? 'é cancelado' : 'são cancelados'}.`
          : `Lote cancelado: ${cpfs(result.cancelled)} não ${result.cancelled === 1 ? 'será processado' : 'serão processados'}.`
    return { success: true, message, cancelados_agora: result.cancelled, ...batchView(batch, batches.counts(batch.id)) }
  })
}
