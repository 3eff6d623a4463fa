/**
 * `npm run tenant:prometheus`: what a Prometheus server needs to scrape the fleet, written from tenants/:
 * a file-based service-discovery target list (one target per tenant, labelled with its port and name), the fleet's
 * scrape token (0600) and a scrape config that uses both. `--set-token` writes that token as METRICS_TOKEN into
 * every tenant file that lacks it. One token for the fleet: Prometheus authenticates per scrape job, not per target.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { stringify } from 'yaml'
import { updateEnvText, writeFileAtomic } from '../config/env-file.js'
import { parseTenantConfig } from '../config/load.js'
import { tenantPaths } from '../config/paths.js'
import { readTenants } from './tenants.js'
import { reachHost } from './net.js'

export interface PrometheusOptions {
  root: string
  /** Where the three files go (default <root>/tenants/prometheus: git-ignored, beside the secrets it mirrors). */
  out?: string
  /** Write the fleet token as METRICS_TOKEN into tenant files that have none. */
  setToken?: boolean
  /** Prometheus scrape interval (default 15s). */
  scrapeInterval?: string
}

export interface PrometheusResult {
  dir: string
  targetsFile: string
  tokenFile: string
  configFile: string
  tokenCreated: boolean
  /** Ports in the target list. */
  targets: number[]
  /** Ports whose file got METRICS_TOKEN now (running tenants read it on reload). */
  updated: number[]
  /** Tenants left out, and why. */
  skipped: string[]
}

interface FileSdGroup {
  targets: string[]
  labels: Record<string, string>
}

const target = (host: string, port: number): string => `${reachHost(host)}:${port}`

export const DEFAULT_SCRAPE_INTERVAL = '15s'
const INTERVAL_RE = /^\d+(ms|s|m|h)$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const durationMs = (d: string): number => Number.parseInt(d) * UNIT_MS[/[a-z]+$/.exec(d)![0]]!

export function writePrometheus (opts: PrometheusOptions): PrometheusResult {
  const scrapeInterval = opts.scrapeInterval ?? DEFAULT_SCRAPE_INTERVAL
  if (!INTERVAL_RE.test(scrapeInterval)) throw new Error(`scrape interval "${scrapeInterval}" is not a Prometheus duration (e.g. 15s, 1m)`)
  const dir = path.resolve(opts.out ?? path.join(tenantPaths(opts.root, 0).tenantsDir, 'prometheus'))
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const tokenFile = path.join(dir, 'metrics.token')
  let token = fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8').trim() : ''
  const tokenCreated = token.length < 32
  if (tokenCreated) {
    token = randomBytes(32).toString('base64url')
    writeFileAtomic(tokenFile, `${token}\n`, 0o600, false)
  }

  const groups: FileSdGroup[] = []
  const updated: number[] = []
  const skipped: string[] = []
  for (const t of readTenants(opts.root)) {
    if (!t.loaded) {
      skipped.push(`port ${t.port}: invalid config (${t.error ?? '?'})`)
      continue
    }
    let config = t.loaded.config
    if (config.METRICS_TOKEN === '' && opts.setToken) {
      const file = t.loaded.file
      const text = updateEnvText(fs.readFileSync(file, 'utf8'), { METRICS_TOKEN: token })
      config = parseTenantConfig(text, file, t.port).config // never write a file that would not load
      writeFileAtomic(file, text)
      updated.push(t.port)
    }
    if (config.METRICS_TOKEN === '') {
      skipped.push(`port ${t.port}: no METRICS_TOKEN (run with --set-token to give it the fleet's)`)
      continue
    }
    if (config.METRICS_TOKEN !== token) {
      skipped.push(`port ${t.port}: its METRICS_TOKEN is not the fleet's (${tokenFile}); make them equal to scrape it with this job`)
      continue
    }
    groups.push({ targets: [target(config.HOST, t.port)], labels: { tenant: String(t.port), tenant_name: config.TENANT_NAME } })
  }

  const targetsFile = path.join(dir, 'targets.json')
  // Prometheus re-reads the list when it changes; a rename never shows it half-written. No secret in it.
  writeFileAtomic(targetsFile, `${JSON.stringify(groups, null, 2)}\n`, 0o644, false)
  const configFile = path.join(dir, 'prometheus.yml')
  writeFileAtomic(configFile, renderScrapeConfig({ targetsFile, tokenFile, scrapeInterval }), 0o644, false)
  return { dir, targetsFile, tokenFile, configFile, tokenCreated, targets: groups.map((g) => Number(g.labels['tenant'])), updated, skipped }
}

/** A Prometheus configuration with the fleet's scrape job (usable as is, or its job pasted into an existing one). */
function renderScrapeConfig (o: { targetsFile: string; tokenFile: string; scrapeInterval: string }): string {
  const config = {
    scrape_configs: [
      {
        job_name: 'clt-v8',
        metrics_path: '/metrics',
        scrape_interval: o.scrapeInterval,
        // At most the interval (Prometheus refuses more), at most 10 s (a tenant answers /metrics in milliseconds).
        scrape_timeout: durationMs(o.scrapeInterval) < 10_000 ? o.scrapeInterval : '10s',
        authorization: { type: 'Bearer', credentials_file: o.tokenFile },
        file_sd_configs: [{ files: [o.targetsFile], refresh_interval: '30s' }],
      },
    ],
  }
  return '# GENERATED by `npm run tenant:prometheus` from tenants/; re-run it after adding or removing a tenant.\n' +
    '# Prometheus must be able to read the token file (mode 0600: chown it to the user prometheus runs as, or copy it).\n' +
    stringify(config, { lineWidth: 0 })
}
