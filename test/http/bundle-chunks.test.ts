/**
 * What a tenant loads only when used (issue 16: not in every tenant's start) works from the built, bundled process
 * (bin/clt-v8-api.js), where each is a chunk of its own beside dist/bundle/main.js: the spreadsheet readers and
 * writers (a CSV and an XLSX read, a batch's results written as CSV and XLSX), prom-client (GET /metrics) and, outside
 * the bundle, fast-json-stringify (the cache read).
 * Needs `npm run build`.
 */
import fs from 'node:fs'
import { request } from 'undici'
import t from 'tap'
import { TEST_API_KEY, tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { PLANILHAS, fixtureCpfs } from '../fixtures/planilhas.js'
import { startTenantProcess, waitHealthy } from '../fixtures/batches-process.js'

const METRICS = 'metrics-token-0123456789abcdef0123456789abcdef'

async function call (port: number, method: 'GET' | 'POST', path: string, body?: Buffer, type?: string, key = TEST_API_KEY): Promise<{ status: number; bytes: Buffer; type: string }> {
  const res = await request(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(type ? { 'content-type': type } : {}) },
    body,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  })
  return { status: res.statusCode, bytes: Buffer.from(await res.body.arrayBuffer()), type: String(res.headers['content-type'] ?? '') }
}

t.test('the bundled tenant reads CSV and XLSX uploads and writes both result formats', async (t) => {
  const root = tempRoot(t, 'cltv8-sheets-proc-')
  const port = await freePort()
  writeTenantConfig(root, port, { LOG_LEVEL: 'warn', METRICS_TOKEN: METRICS })
  const p = startTenantProcess(t, root, port)
  await waitHealthy(port)

  const csv = await call(port, 'POST', '/clt/lotes/planilha?previa=1&arquivo=clientes.csv', fs.readFileSync(PLANILHAS.csv), 'text/csv')
  t.equal(csv.status, 200, `CSV preview 200 (${csv.bytes.toString().slice(0, 200)})`)
  t.match(JSON.parse(csv.bytes.toString()).previa, { formato: 'csv', validos: fixtureCpfs('csv').length }, 'the CSV was read by the lazily loaded parser')

  const xlsx = await call(port, 'POST', '/clt/lotes/planilha?previa=1&arquivo=clientes.xlsx', fs.readFileSync(PLANILHAS.xlsx), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
  t.equal(xlsx.status, 200, `XLSX preview 200 (${xlsx.bytes.toString().slice(0, 200)})`)
  t.match(JSON.parse(xlsx.bytes.toString()).previa, { formato: 'xlsx', validos: fixtureCpfs('xlsx').length }, 'the XLSX was read by the lazily loaded reader')

  const created = await call(port, 'POST', '/clt/lotes/planilha?arquivo=clientes.csv', fs.readFileSync(PLANILHAS.csv), 'text/csv')
  t.equal(created.status, 202, `batch created (${created.bytes.toString().slice(0, 200)})`)
  const id = JSON.parse(created.bytes.toString()).lote_id as string
  const outCsv = await call(port, 'GET', `/clt/lotes/${id}/resultado.csv`)
  t.equal(outCsv.status, 200, 'results as CSV')
  t.ok(outCsv.bytes.toString('utf8').startsWith('\ufeff'), 'a CSV with its BOM, written by the lazily loaded writer')
  const outXlsx = await call(port, 'GET', `/clt/lotes/${id}/resultado.xlsx`)
  t.equal(outXlsx.status, 200, 'results as XLSX')
  t.equal(outXlsx.bytes.subarray(0, 2).toString('latin1'), 'PK', 'an XLSX (zip), written by the lazily loaded writer')
  const metrics = await call(port, 'GET', '/metrics', undefined, undefined, METRICS)
  t.equal(metrics.status, 200, 'GET /metrics answers')
  t.match(metrics.bytes.toString(), /^clt_v8_http_requests_total\{method="POST",route="\/clt\/lotes\/planilha",status="200"\} 2$/m, 'prom-client loaded: the previews counted by route')
  t.match(metrics.bytes.toString(), /^clt_v8_process_resident_memory_bytes \d+/m, 'with the process metrics')
  // The cache read's serializer requires fast-json-stringify (outside the bundle) on its first answer.
  const cpf = fixtureCpfs('csv')[0]!
  const saved = await call(port, 'POST', '/cache/simulacao/salvar', Buffer.from(JSON.stringify({ cpf, consultId: 'c-1', dadosSimulacao: { valor: 1000 } })), 'application/json')
  t.equal(saved.status, 200, `cache saved (${saved.bytes.toString().slice(0, 200)})`)
  const read = await call(port, 'GET', `/cache/simulacao/${cpf}`)
  t.equal(read.status, 200, `cache read (${read.bytes.toString().slice(0, 200)})`)
  t.match(JSON.parse(read.bytes.toString()), { success: true, simulacao: { consultId: 'c-1', dadosSimulacao: { valor: 1000 } } }, 'written by fast-json-stringify, required on this first answer')
  t.equal(p.stderr().includes('Cannot find module'), false, 'no chunk missing from the bundle')
})
