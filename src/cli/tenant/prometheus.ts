/** `tenant prometheus [--set-token]`: the Prometheus target list, token and scrape job for the fleet (logic in cli/prometheus.ts). */
import { appName } from '../ecosystem.js'
import { CliError } from '../errors.js'
import { pm2List } from '../pm2.js'
import { DEFAULT_SCRAPE_INTERVAL, writePrometheus } from '../prometheus.js'
import { defineCommand } from './command.js'

export const prometheusCommand = defineCommand({
  name: 'prometheus',
  usage: 'prometheus [-- --set-token --out DIR --scrape-interval 15s]   (Prometheus file_sd targets, token and scrape job)',
  options: {
    'set-token': { type: 'boolean', default: false },
    out: { type: 'string' },
    'scrape-interval': { type: 'string' },
  },
  async run ({ root, out }, values) {
    let r: ReturnType<typeof writePrometheus>
    try {
      r = writePrometheus({
        root,
        setToken: values['set-token'],
        ...(values.out !== undefined ? { out: values.out } : {}),
        scrapeInterval: values['scrape-interval'] ?? DEFAULT_SCRAPE_INTERVAL,
      })
    } catch (err) {
      throw new CliError((err as Error).message)
    }
    out(`${r.tokenCreated ? 'Created' : 'Kept'} the fleet's scrape token: ${r.tokenFile} (0600; Prometheus's user must be able to read it).`)
    out(`Wrote ${r.targetsFile} (${r.targets.length} target(s)${r.targets.length ? `: ${r.targets.join(', ')}` : ''}) and ${r.configFile}.`)
    for (const s of r.skipped) out(`  skipped: ${s}`)
    if (r.updated.length > 0) {
      out(`METRICS_TOKEN written into the files of ${r.updated.join(', ')} (a timestamped copy of each previous file is kept).`)
      // A running tenant re-reads its file on SIGHUP (no restart), as after tenant:key --rotate.
      const procs = await pm2List().catch(() => [])
      for (const port of r.updated) {
        const proc = procs.find((p) => p.name === appName(port) && p.status === 'online')
        if (proc) {
          process.kill(proc.pid, 'SIGHUP')
          out(`  ${port}: told the running process (pid ${proc.pid}) to re-read its file: /metrics answers from now on`)
        } else {
          out(`  ${port}: not running under this PM2: /metrics answers once it starts (or send it SIGHUP)`)
        }
      }
    }
    out(`Prometheus: prometheus --config.file=${r.configFile}   (or paste its clt-v8 job into your prometheus.yml); re-run this after adding or removing a tenant.`)
    return 0
  },
})
