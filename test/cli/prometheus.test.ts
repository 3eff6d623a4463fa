/** tenant:prometheus: the fleet token, METRICS_TOKEN written on request, a file_sd target list, and a real Prometheus scraping two tenants. */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import t from 'tap'
import { request } from 'undici'
import { parse } from 'yaml'
import { writePrometheus } from '../../src/cli/prometheus.js'
import { loadTenantConfig } from '../../src/config/load.js'
import { ConfigStore } from '../../src/config/store.js'
import { openDatabase } from '../../src/db/database.js'
import { createTenant } from '../../src/tenant.js'
import { TEST_API_KEY, tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'

const PROMETHEUS = '/usr/bin/prometheus'
const mode = (f: string): number => fs.statSync(f).mode & 0o777

t.test('the token, --set-token, the target list and the scrape config', async (t) => {
  const root = tempRoot(t, 'cltv8-prom-')
  writeTenantConfig(root, 6101, { TENANT_NAME: 'Cliente A' })
  writeTenantConfig(root, 6102, { TENANT_NAME: 'Cliente B', HOST: '0.0.0.0' })
  fs.writeFileSync(path.join(root, 'tenants', 'config-6103.env'), "PORT='6103'\nV8_MAX_RPS='abc'\n", { mode: 0o600 })

  const first = writePrometheus({ root })
  t.ok(first.tokenCreated, 'a fleet token is made on first use')
  t.equal(mode(first.tokenFile), 0o600, 'the token file is 0600')
  const token = fs.readFileSync(first.tokenFile, 'utf8').trim()
  t.ok(token.length >= 32, 'a long random token')
  t.same(first.targets, [], 'no tenant has METRICS_TOKEN yet: no target')
  t.equal(first.skipped.length, 3, 'all three skipped')
  t.match(first.skipped.join('\n'), /6101: no METRICS_TOKEN \(run with --set-token/, 'says how to include one')
  t.match(first.skipped.join('\n'), /6103: invalid config/, 'an invalid file is named')
  t.same(JSON.parse(fs.readFileSync(first.targetsFile, 'utf8')), [], 'an empty list, still valid for Prometheus')

  const second = writePrometheus({ root, setToken: true, scrapeInterval: '30s' })
  t.notOk(second.tokenCreated, 'the same token kept')
  t.same(second.updated, [6101, 6102], 'METRICS_TOKEN written into both valid files')
  for (const port of [6101, 6102]) {
    const c = loadTenantConfig(root, port).config
    t.equal(c.METRICS_TOKEN, token, `tenant ${port} has the fleet token`)
    t.equal(c.API_KEY, TEST_API_KEY, `tenant ${port} kept its API key`)
    t.equal(mode(path.join(root, 'tenants', `config-${port}.env`)), 0o600, `tenant ${port}: its file is still 0600`)
  }
  t.same(JSON.parse(fs.readFileSync(second.targetsFile, 'utf8')), [
    { targets: ['127.0.0.1:6101'], labels: { tenant: '6101', tenant_name: 'Cliente A' } },
    { targets: ['127.0.0.1:6102'], labels: { tenant: '6102', tenant_name: 'Cliente B' } },
  ], 'one target per tenant (0.0.0.0 scraped on loopback), labelled with port and name')
  const targetsText = fs.readFileSync(second.targetsFile, 'utf8')
  t.notOk(targetsText.includes(token) || targetsText.includes(TEST_API_KEY), 'no secret in the target list')
  const config = parse(fs.readFileSync(second.configFile, 'utf8'))
  t.match(config.scrape_configs[0], {
    job_name: 'clt-v8',
    metrics_path: '/metrics',
    scrape_interval: '30s',
    scrape_timeout: '10s',
    authorization: { type: 'Bearer', credentials_file: second.tokenFile },
    file_sd_configs: [{ files: [second.targetsFile] }],
  }, 'the scrape job: bearer token from the file, targets from the list')
  t.notOk(fs.readFileSync(second.configFile, 'utf8').includes(token), 'the config names the token file, not the token')

  const third = writePrometheus({ root, setToken: true })
  t.same(third.updated, [], 'run again: nothing to write')
  t.same(third.targets, [6101, 6102], 'same targets')
  t.throws(() => writePrometheus({ root, scrapeInterval: 'often' }), /not a Prometheus duration/, 'a bad interval is refused')
})

if (!fs.existsSync(PROMETHEUS)) {
  t.comment(`${PROMETHEUS} not found: the real-Prometheus test is skipped (apt-get install -y prometheus)`)
} else {
  t.test('a real Prometheus scrapes two tenants through the generated files', { timeout: 120_000 }, async (t) => {
    const root = tempRoot(t, 'cltv8-prom-')
    const ports = [await freePort(), await freePort()]
    for (const [i, port] of ports.entries()) writeTenantConfig(root, port, { TENANT_NAME: `Cliente ${i + 1}` })
    const written = writePrometheus({ root, setToken: true, scrapeInterval: '1s' })
    t.same(written.targets, [...ports].sort((a, b) => a - b), 'both tenants listed')
    for (const port of ports) {
      const loaded = loadTenantConfig(root, port)
      const tenant = await createTenant({ config: new ConfigStore(loaded.config, loaded.file), db: openDatabase(':memory:'), logger: pino({ level: 'silent' }), batch: { start: false }, events: { start: false } })
      t.teardown(() => tenant.close())
      await tenant.app.listen({ port, host: '127.0.0.1' })
      await request(`http://127.0.0.1:${port}/health`).then((r) => r.body.dump())
    }

    const web = await freePort()
    const data = fs.mkdtempSync(path.join(root, 'tsdb-'))
    const prom = spawn(PROMETHEUS, [
      `--config.file=${written.configFile}`,
      `--storage.tsdb.path=${data}`,
      `--web.listen-address=127.0.0.1:${web}`,
      '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    prom.stderr.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-4000) })
    t.teardown(async () => {
      if (prom.exitCode === null) {
        const exited = new Promise((resolve) => prom.once('exit', resolve))
        prom.kill('SIGTERM')
        await Promise.race([exited, sleep(10_000)])
        if (prom.exitCode === null) prom.kill('SIGKILL')
      }
    })
    const api = async (p: string): Promise<any> => {
      const res = await request(`http://127.0.0.1:${web}${p}`, { signal: AbortSignal.timeout(5000) })
      return res.body.json()
    }

    // Bounded: Prometheus starts, reads the target list and scrapes every second; a busy machine gets a minute.
    const deadline = Date.now() + 60_000
    let health: Record<string, string> = {}
    let series: Array<{ metric: Record<string, string> }> = []
    while (Date.now() < deadline) {
      try {
        const targets = await api('/api/v1/targets?state=active')
        health = Object.fromEntries((targets.data?.activeTargets ?? []).map((a: any) => [a.labels.tenant, `${a.health}${a.lastError ? ` (${a.lastError})` : ''}`]))
        const q = await api(`/api/v1/query?query=${encodeURIComponent('clt_v8_http_requests_total{route="/health"}')}`)
        series = q.data?.result ?? []
        if (ports.every((p) => health[String(p)] === 'up') && series.length >= 2) break
      } catch {
        // not listening yet
      }
      if (prom.exitCode !== null) break
      await sleep(500)
    }
    t.equal(prom.exitCode, null, `Prometheus keeps running (stderr: ${stderr.slice(-500)})`)
    for (const port of ports) t.equal(health[String(port)], 'up', `Prometheus reports tenant ${port} up`)
    const scraped = series.map((s) => s.metric['tenant']).sort()
    t.same(scraped, ports.map(String).sort(), 'a tenant metric scraped from both, labelled by tenant')
    t.ok(series.every((s) => s.metric['job'] === 'clt-v8' && s.metric['tenant_name']?.startsWith('Cliente ')), 'with the job and the tenant name')
  })
}
