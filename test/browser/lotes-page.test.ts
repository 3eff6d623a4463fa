/**
 * The "Lotes" tab in Chromium on a phone-sized screen, against the sandbox: upload the CSV (Latin-1, ;) and XLSX fixtures,
 * preview, start, watch the bar reach 100 %, download and parse the results; a page reload and a tenant restart mid-batch
 * both end with the page following the batch again by itself.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parse as parseCsv } from 'csv-parse/sync'
import { pino } from 'pino'
import readXlsxFile from 'read-excel-file/node'
import t from 'tap'
import { loadTenantConfig } from '../../src/config/load.js'
import { ConfigStore } from '../../src/config/store.js'
import { openDatabase } from '../../src/db/database.js'
import { createTenant } from '../../src/tenant.js'
import { CHROMIUM_MISSING, chromiumPresent, launchBrowser, screenshots } from '../fixtures/browser.js'
import { TEST_API_KEY, tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { startSandbox, type SandboxPerson } from '../fixtures/sandbox.js'
import { PLANILHAS, fixtureCpfs } from '../fixtures/planilhas.js'

const PHONE = { width: 390, height: 844 }

if (!chromiumPresent()) {
  process.stderr.write(`${CHROMIUM_MISSING}\n`)
  t.plan(0, CHROMIUM_MISSING)
} else {
  t.test('Lotes tab: CSV and XLSX uploads, live progress to 100 %, results downloaded; reload and tenant restart reconnect', async (t) => {
    const sandbox = await startSandbox(t)
    await sandbox.configure({ consult_delay_ms: 200, slow_ms: 6000 })
    const people = new Map<string, SandboxPerson>()
    for (const s of ['ok', 'rejected', 'no_margin', 'slow'] as const) for (const p of await sandbox.people(s, 40)) people.set(p.cpf, p)
    for (const cpf of fixtureCpfs()) t.ok(people.has(cpf), `fixture CPF …${cpf.slice(-4)} is a sandbox person (seed unchanged)`)

    // A tenant process of our own on a fixed port, so it can be stopped and started again on the same DB.
    const root = tempRoot(t, 'cltv8-lotes-page-')
    const port = await freePort()
    writeTenantConfig(root, port, { ...sandbox.tenantConfig(), TENANT_NAME: 'Promotora Exemplo', BATCH_CONCURRENCY: '3', V8_MAX_RPS: '1000' })
    const start = async (): Promise<() => Promise<void>> => {
      const loaded = loadTenantConfig(root, port)
      const db = openDatabase(path.join(root, 'tenants', `data-${port}.sqlite`))
      const tenant = await createTenant({ config: new ConfigStore(loaded.config, loaded.file), db, logger: pino({ level: 'silent' }) })
      await tenant.app.listen({ port, host: '127.0.0.1' })
      return tenant.close
    }
    let stop = await start()
    t.teardown(() => stop())
    const url = `http://127.0.0.1:${port}`

    const browser = await launchBrowser(t)
    const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, locale: 'pt-BR', acceptDownloads: true, isMobile: true, hasTouch: true })
    const page = await context.newPage()
    page.setDefaultTimeout(20_000)
    page.on('dialog', (d) => { void d.accept() })
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      // A stream cut by the tenant restart is expected to log a network failure.
      if (m.type() === 'error' && !/Failed to load resource|net::ERR_|network error/i.test(m.text())) problems.push(`console: ${m.text()}`)
    })
    const { shot } = screenshots(t, page, 'lotes')
    const text = async (sel: string): Promise<string> => ((await page.textContent(sel)) ?? '').trim()

    await page.goto(`${url}/config-v8`)
    await page.fill('#api-key', TEST_API_KEY)
    await page.click('#btn-entrar')
    await page.locator('#view-main').waitFor()
    await page.click('#tab-btn-lotes')
    await page.locator('#card-lote-novo').waitFor()
    t.equal(await text('#lotes-vazio'), 'Nenhum lote ainda.', 'no batches yet')
    t.ok(await page.isDisabled('#lote-banco option[value="presencabank"]') === false, 'PresençaBank offered (configured)')
    await shot('vazio')

    // 1. The CSV (Latin-1, ;): preview on choosing the file.
    await page.setInputFiles('#lote-arquivo', PLANILHAS.csv)
    await page.locator('#lote-previa:not([hidden])').waitFor()
    const csvExpect = fixtureCpfs('csv')
    t.equal(await text('#pv-validos'), String(csvExpect.length), 'valid CPFs in the preview')
    t.equal(await text('#pv-invalidos'), '1', 'one invalid CPF')
    t.equal(await text('#pv-duplicados'), '1', 'one repeated CPF')
    t.equal(await page.locator('#lote-coluna-cpf option:checked').textContent(), 'CPF', 'the CPF column by its name')
    t.match(await text('#pv-coluna-hint'), /Arquivo CSV · LATIN-1 · separador ";"/, 'format, encoding and separator shown')
    t.match(await text('#pv-usadas'), /nome \(“Nome completo”\).*telefone \(“Celular”\)/, 'optional columns shown')
    await shot('previa-csv')
    await page.click('#btn-lote-iniciar')
    await page.locator('#card-lote-atual:not([hidden])').waitFor()
    t.match(page.url(), /#lote=[0-9a-f-]{36}$/, 'the address names the batch')
    await page.locator('#lw-conexao[data-state="open"]').waitFor()
    await page.locator('#lw-c-oferta:not(:text-is("0"))').waitFor()
    await shot('rodando-csv')
    await page.locator('#lw-status[data-state="COMPLETED"]').waitFor({ timeout: 60_000 })
    t.equal(await text('#lw-pct'), '100 %', 'the bar reaches 100 %')
    t.equal(await page.getAttribute('#lw-bar', 'aria-valuenow'), '100', 'aria-valuenow 100')
    const byScenario = (cpfs: string[], s: string): number => cpfs.filter((c) => people.get(c)?.scenario === s).length
    t.equal(await text('#lw-c-oferta'), String(byScenario(csvExpect, 'ok')), 'offers = ok people')
    t.equal(await text('#lw-c-recusado'), String(byScenario(csvExpect, 'rejected')), 'refusals = rejected people')
    t.equal(await text('#lw-c-sem_margem'), String(byScenario(csvExpect, 'no_margin')), 'no margin = no_margin people')
    t.ok(await page.locator('#lw-itens li').count() > 0, 'latest CPFs listed')
    t.notOk((await page.content()).includes(csvExpect[0]!), 'whole CPFs are not on the page')
    await shot('concluido-csv')

    const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('#btn-lw-csv')])
    t.match(csvDl.suggestedFilename(), /^lote-[0-9a-f]{8}-resultado\.csv$/, 'download named')
    const csvRows = parseCsv(fs.readFileSync((await csvDl.path())!), { delimiter: ';', bom: true }) as string[][]
    t.same(csvRows[0]!.slice(0, 5), ['Nome completo', 'CPF', 'Celular', 'Observação', 'resultado'], 'the file\'s columns (accents intact), then ours')
    t.equal(csvRows.length, 1 + csvExpect.length + 1, 'one row per distinct CPF (the invalid one included)')
    for (const row of csvRows.slice(1)) {
      const cpf = row[1]!.replace(/\D/g, '')
      const s = people.get(cpf)?.scenario
      const want = s === 'ok' ? 'oferta' : s === 'rejected' ? 'recusado' : s === 'no_margin' ? 'sem margem' : 'erro'
      t.equal(row[4], want, `row …${cpf.slice(-4)}: ${want}`)
      if (s === 'ok') t.ok(Number(row[10]!.replace(',', '.')) > 0 && row[13]!.includes('pré-aprovado'), 'offer: installment value and WhatsApp text')
    }

    // 2. The XLSX, with slow consults: reload the page mid-batch, then restart the tenant mid-batch.
    await page.setInputFiles('#lote-arquivo', PLANILHAS.xlsx)
    await page.locator('#lote-previa:not([hidden])').waitFor()
    const xlsxExpect = fixtureCpfs('xlsx')
    await page.locator(`#pv-validos:text-is("${xlsxExpect.length}")`).waitFor()
    t.match(await text('#pv-coluna-hint'), /Arquivo XLSX/, 'XLSX read')
    await page.click('#btn-lote-iniciar')
    await page.locator('#lw-status[data-state="RUNNING"]').waitFor()
    const batchUrl = page.url()
    await page.locator('#lw-c-aguardando:not(:text-is("0"))').waitFor({ timeout: 30_000 })
    t.match(await text('#lw-ritmo'), /aguardando o banco/, 'time left accounts for items waiting at V8')
    const xlsxId = /#lote=(.+)$/.exec(page.url())![1]!
    await page.locator(`#lotes-rows tr[data-lote="${xlsxId}"] td:nth-child(3) span:not(:text-is("0/${xlsxExpect.length}"))`).waitFor()
    t.equal(await text(`#lotes-rows tr[data-lote="${xlsxId}"] td:nth-child(2) span`), 'rodando', 'its row in the list follows the progress')
    await shot('aguardando-xlsx')

    await page.reload()
    await page.locator('#card-lote-atual:not([hidden])').waitFor()
    t.equal(page.url(), batchUrl, 'after a reload the page is back on the batch')
    await page.locator('#lw-conexao[data-state="open"]').waitFor()

    const resumes: Array<string | undefined> = []
    page.on('request', (r) => { if (r.url().endsWith('/eventos')) resumes.push(r.headers()['last-event-id']) })
    const stopAt = Date.now()
    await stop()
    t.comment(`tenant stopped in ${Date.now() - stopAt} ms with the page's stream open`)
    await page.locator('#lw-conexao[data-state="reconnecting"]').waitFor()
    t.match(await text('#lw-conexao'), /reconectando/, 'the page says it lost the stream')
    await shot('reconectando')
    stop = await start()
    // Back on the new process (live again, or straight to the end if the batch finished meanwhile).
    await page.locator('#lw-conexao[data-state="open"], #lw-status[data-state="COMPLETED"]').first().waitFor({ timeout: 30_000 })
    t.match(resumes.find((id) => id !== undefined), /^\d+\.\d+$/, 'the page came back with the Last-Event-ID of the last item it had')
    await page.locator('#lw-status[data-state="COMPLETED"]').waitFor({ timeout: 90_000 })
    t.equal(await text('#lw-pct'), '100 %', 'after the restart the bar still reaches 100 %')
    await shot('concluido-xlsx')

    const [xDl] = await Promise.all([page.waitForEvent('download'), page.click('#btn-lw-xlsx')])
    const [sheet] = await readXlsxFile((await xDl.path())!)
    t.equal(sheet!.data.length, 1 + xlsxExpect.length, 'XLSX results: one row per CPF')
    const col = sheet!.data[0]!.indexOf('resultado')
    t.ok(col > 0, 'a resultado column after the file\'s own')
    const okRows = sheet!.data.slice(1).filter((r) => r[col] === 'oferta')
    t.equal(okRows.length, byScenario(xlsxExpect, 'ok') + byScenario(xlsxExpect, 'slow'), 'ok and slow people got offers')

    await page.locator('#lotes-rows tr').nth(1).waitFor()
    t.equal(await page.locator('#lotes-rows tr').count(), 2, 'both batches listed')
    await page.locator('#card-lotes').scrollIntoViewIfNeeded()
    await shot('lista')
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    t.ok(width <= PHONE.width, `nothing wider than the phone screen (${width}px)`)
    await page.setViewportSize({ width: 1100, height: 900 })
    await page.locator('#card-lote-atual').scrollIntoViewIfNeeded()
    await shot('desktop')
    t.same(problems, [], 'no page errors')
  })
}
