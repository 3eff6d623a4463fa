/** npm run lote: uploads a spreadsheet to a running tenant, prints progress, writes the results file; refusals in one line. */
import fs from 'node:fs'
import path from 'node:path'
import { parse as parseCsv } from 'csv-parse/sync'
import readXlsxFile from 'read-excel-file/node'
import t from 'tap'
import { bar, main } from '../../src/cli/lote.js'
import { FakeRunner, buildWithRunner, failure, success, validCpf } from '../fixtures/batches.js'
import { tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'

async function tenant (t: Parameters<typeof buildWithRunner>[0] & { teardown(fn: () => void): void }): Promise<{ root: string; port: number; runner: FakeRunner }> {
  const runner = new FakeRunner({ delayMs: 5, step: (cpf) => (cpf === validCpf(3) ? failure(cpf, 'termo_recusado') : success(cpf)) })
  const { app } = await buildWithRunner(t, { runner })
  const port = await freePort()
  await app.listen({ port, host: '127.0.0.1' })
  const root = tempRoot(t, 'cltv8-lote-cli-')
  writeTenantConfig(root, port) // the CLI reads the key and the address from the tenant's file
  return { root, port, runner }
}

t.test('uploads, shows progress, writes the results next to the file (CSV) or where asked (XLSX)', async (t) => {
  const { root, port, runner } = await tenant(t)
  const file = path.join(root, 'clientes.csv')
  fs.writeFileSync(file, Buffer.from(`Nome;CPF\nJoão;${validCpf(1)}\nMaria;${validCpf(2)}\nAna;${validCpf(3)}\nErro;123\n`, 'latin1'))
  const lines: string[] = []
  const code = await main([String(port), file, '--root', root, '--prazo', '24'], { out: (s) => lines.push(s) })
  t.equal(code, 0, 'exit 0')
  t.match(lines[0], /^Lote [0-9a-f-]{36}: 4 linhas, 4 CPFs \(1 não consultáveis, 0 repetidos\); CPF na coluna "CPF"; também: nome="Nome"\.$/, 'what was read')
  t.ok(lines.some((l) => /\[#{24}\] 100 % {2}4\/4/.test(l)), 'the bar reaches 100 %')
  t.match(lines[lines.length - 1], /Resultado em .*clientes\.resultado\.csv$/, 'says where the results are')
  const rows = parseCsv(fs.readFileSync(path.join(root, 'clientes.resultado.csv')), { delimiter: ';', bom: true }) as string[][]
  t.same(rows.map((r) => [r[0], r[2]]), [['Nome', 'resultado'], ['João', 'oferta'], ['Maria', 'oferta'], ['Ana', 'recusado'], ['Erro', 'erro']], 'one row per CPF with its outcome')
  t.ok(runner.inputs.length > 0 && runner.inputs.every((i) => i.installments === 24), '--prazo reached the flow')

  const out = path.join(root, 'saida.xlsx')
  t.equal(await main([String(port), file, '--root', root, '--saida', out], { out: () => undefined }), 0, 'XLSX: exit 0')
  const [sheet] = await readXlsxFile(fs.readFileSync(out))
  t.equal(sheet!.data.length, 5, 'XLSX results written')
})

t.test('refusals: a clear line, no stack', async (t) => {
  const { root, port } = await tenant(t)
  await t.rejects(main([String(port)], { out: () => undefined }), /usage: npm run lote/, 'usage without a file')
  await t.rejects(main([String(port), path.join(root, 'nao-existe.csv'), '--root', root], { out: () => undefined }), /cannot read .*nao-existe\.csv: ENOENT/, 'a missing file')
  await t.rejects(main(['6001', path.join(root, 'x.csv'), '--root', root], { out: () => undefined }), /tenant 6001/, 'a port without a tenant')
  const empty = path.join(root, 'vazio.csv')
  fs.writeFileSync(empty, 'nome;cidade\nMaria;Recife\n')
  await t.rejects(main([String(port), empty, '--root', root], { out: () => undefined }), /vazio\.csv was not accepted: Nenhuma coluna do arquivo tem CPFs válidos.*\(coluna_cpf_nao_encontrada\)/, 'the tenant\'s refusal in words')
})

t.test('the bar says counts, pace and time left', async (t) => {
  t.equal(bar({ status: 'RUNNING', total: 200, processados: 100, cancelados: 0, por_resultado: { oferta: 80, recusado: 20, aguardando: 5 }, vazao_por_min: 35, restante_s: 180 }, 10),
    '[#####.....]  50 %  100/200 · oferta 80 · recusado 20 · aguardando 5 · 35/min · ~3 min', 'one line')
})
