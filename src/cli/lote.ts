/** `npm run lote -- <PORT> <file.csv|.xlsx>`: upload a spreadsheet to a tenant, show a progress bar, write the results file. */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { loadTenantConfig } from '../config/load.js'
import { CODE_DIR } from '../config/paths.js'
import { CliError } from './errors.js'
import { parsePort } from './tenant/port.js'
import { reachHost } from './net.js'

const USAGE = 'usage: npm run lote -- <PORT> <arquivo.csv|.xlsx> [--banco v8|presencabank] [--valor 350,00] [--prazo 24] [--coluna-cpf CPF] [--saida resultado.csv|.xlsx]'

interface Progress {
  status: string
  total: number
  processados: number
  cancelados: number
  por_resultado?: Record<string, number>
  vazao_por_min?: number | null
  restante_s?: number | null
}

export interface LoteIo {
  out: (s: string) => void
  /** Rewrite the current terminal line (a TTY); undefined prints a line now and then instead. */
  line?: (s: string) => void
}

/** The tenant's address as this machine reaches it: a wildcard bind is reached on loopback. */
function baseUrl (host: string, port: number): string {
  return `http://${reachHost(host)}:${port}`
}

/** The bar: `[#####.....]  52 %  104/200 · oferta 80 · recusado 10 · … · 35/min · ~3 min`. */
export function bar (p: Progress, width = 24): string {
  const done = p.processados + p.cancelados
  const pct = p.total > 0 ? Math.floor((done / p.total) * 100) : 0
  const filled = Math.round((pct / 100) * width)
  const c = p.por_resultado ?? {}
  const counts = ['oferta', 'recusado', 'sem_margem', 'aguardando', 'erro'].filter((k) => (c[k] ?? 0) > 0).map((k) => `${k.replace('_', ' ')} ${c[k]}`)
  const pace = p.vazao_por_min != null ? `${p.vazao_por_min}/min` : ''
  const left = p.restante_s != null && p.restante_s > 0 ? `~${p.restante_s < 60 ? `${p.restante_s} s` : `${Math.round(p.restante_s / 60)} min`}` : ''
  return [`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)} %  ${done}/${p.total}`, ...counts, pace, left].filter(Boolean).join(' · ')
}

async function call (url: string, key: string, init: { method?: 'GET' | 'POST'; body?: Buffer; type?: string } = {}): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  let res
  try {
    res = await request(url, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${key}`, ...(init.type ? { 'content-type': init.type } : {}) },
      ...(init.body ? { body: init.body } : {}),
    })
  } catch (err) {
    throw new CliError(`lote: cannot reach the tenant at ${new URL(url).origin} (${(err as Error).message}); is it running? (npm run tenant:check)`)
  }
  const body = Buffer.from(await res.body.arrayBuffer())
  return { status: res.statusCode, body, headers: res.headers }
}

function refused (what: string, r: { status: number; body: Buffer }): CliError {
  let message = `HTTP ${r.status}`
  try {
    const j = JSON.parse(r.body.toString('utf8')) as { error?: string; message?: string }
    if (j.message) message = `${j.message} (${j.error ?? r.status})`
  } catch {
    // not JSON: the status says it
  }
  return new CliError(`lote: ${what}: ${message}`)
}

/** Follow the batch's events (reconnecting with Last-Event-ID) until `done`; calls `onProgress` on each count change. */
async function follow (base: string, key: string, id: string, onProgress: (p: Progress) => void, signal: AbortSignal): Promise<void> {
  let lastId: string | null = null
  let retryMs = 1000
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const res = await request(`${base}/clt/lotes/${id}/eventos`, {
        headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) },
        signal,
      })
      if (res.statusCode === 204) return
      if (res.statusCode !== 200) throw refused('following the batch', { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) })
      attempt = 0
      let buffer = ''
      for await (const chunk of res.body) {
        buffer += String(chunk).replace(/\r\n?/g, '\n')
        let cut
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          let name = 'message'
          let data = ''
          for (const line of block.split('\n')) {
            const i = line.indexOf(':')
            if (i <= 0) continue
            const field = line.slice(0, i)
            const value = line.slice(i + 1).replace(/^ /, '')
            if (field === 'event') name = value
            else if (field === 'data') data += value
            else if (field === 'id') lastId = value
            else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Math.min(10_000, Number(value))
          }
          if (name === 'progress' && data) onProgress(JSON.parse(data) as Progress)
          if (name === 'done') return
        }
      }
    } catch (err) {
      if (signal.aborted) return
      if (err instanceof CliError) throw err
      if (attempt > 30) throw new CliError(`lote: lost the tenant for too long (${(err as Error).message})`)
    }
    // The stream ended without `done` (the tenant restarted): come back where we left off.
    await new Promise((resolve) => setTimeout(resolve, retryMs))
  }
}

/** A terminal gets a bar redrawn in place; a pipe or a file gets a line every 10 %. */
function terminal (): LoteIo {
  return {
    out: (s) => { process.stdout.write(s + '\n') },
    ...(process.stdout.isTTY ? { line: (s: string) => { process.stdout.write(`\r\x1b[2K${s}`) } } : {}),
  }
}

export async function main (argv: string[], io: LoteIo = terminal()): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      banco: { type: 'string' },
      valor: { type: 'string' },
      prazo: { type: 'string' },
      'coluna-cpf': { type: 'string' },
      saida: { type: 'string' },
      root: { type: 'string' },
      'sem-esperar': { type: 'boolean', default: false },
    },
  })
  const [portRaw, file] = positionals
  if (!portRaw || !file) throw new CliError(USAGE)
  const port = parsePort(portRaw)
  const root = values.root ?? CODE_DIR
  let config
  try {
    config = loadTenantConfig(root, port).config
  } catch (err) {
    throw new CliError(`lote: tenant ${port}: ${(err as Error).message}`)
  }
  let data: Buffer
  try {
    data = fs.readFileSync(file)
  } catch (err) {
    throw new CliError(`lote: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const base = baseUrl(config.HOST, port)
  const key = config.API_KEY
  const q = new URLSearchParams({ arquivo: path.basename(file) })
  if (values.banco) q.set('banco', values.banco)
  if (values.valor) q.set('valor', values.valor)
  if (values.prazo) q.set('prazo', values.prazo)
  if (values['coluna-cpf']) q.set('coluna_cpf', values['coluna-cpf'])
  const created = await call(`${base}/clt/lotes/planilha?${q}`, key, { method: 'POST', body: data, type: 'application/octet-stream' })
  if (created.status !== 202) throw refused(`${path.basename(file)} was not accepted`, created)
  const c = JSON.parse(created.body.toString('utf8')) as { lote_id: string; total: number; invalidos: number; duplicados: number; previa: { linhas: number; coluna_cpf: { nome: string }; colunas_usadas: Record<string, string> } }
  const used = Object.entries(c.previa.colunas_usadas).map(([role, col]) => `${role}="${col}"`).join(', ')
  io.out(`Lote ${c.lote_id}: ${c.previa.linhas} linhas, ${c.total} CPFs (${c.invalidos} não consultáveis, ${c.duplicados} repetidos); CPF na coluna "${c.previa.coluna_cpf.nome}"${used ? `; também: ${used}` : ''}.`)
  const output = values.saida ?? path.join(path.dirname(file), `${path.basename(file, path.extname(file))}.resultado.csv`)
  const format = output.toLowerCase().endsWith('.xlsx') ? 'xlsx' : 'csv'
  if (values['sem-esperar']) {
    io.out(`Acompanhe: ${base}/config-v8#lote=${c.lote_id} · resultado: ${base}/clt/lotes/${c.lote_id}/resultado.${format}`)
    return 0
  }

  const abort = new AbortController()
  const onSignal = (): void => abort.abort()
  process.once('SIGINT', onSignal)
  let lastDecile = -1
  let last: Progress | undefined
  try {
    await follow(base, key, c.lote_id, (p) => {
      last = p
      if (io.line) io.line(bar(p))
      else {
        const decile = Math.floor(((p.processados + p.cancelados) / Math.max(1, p.total)) * 10)
        if (decile !== lastDecile) {
          lastDecile = decile
          io.out(bar(p))
        }
      }
    }, abort.signal)
  } finally {
    process.off('SIGINT', onSignal)
  }
  if (io.line && last) io.line(bar(last) + '\n')
  const res = await call(`${base}/clt/lotes/${c.lote_id}/resultado.${format}`, key)
  if (res.status !== 200) throw refused('downloading the results', res)
  fs.writeFileSync(output, res.body)
  if (abort.signal.aborted) {
    io.out(`Interrompido: o lote continua rodando na porta ${port}. Resultado parcial em ${output}; o completo depois em ${base}/clt/lotes/${c.lote_id}/resultado.${format}`)
    return 130
  }
  io.out(`Resultado em ${output}`)
  return 0
}
