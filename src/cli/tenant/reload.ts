/**
 * `tenant reload [PORT…]`: start or reload tenants one at a time (PM2 startOrReload), each new process healthy before
 * the next; stops at the first that is not, so a bad release takes down one tenant, not the fleet. A tenant whose
 * config does not load is never reloaded.
 */
import fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { CONSOLE_APP, consoleFile, loadConsoleConfig } from '../../config/console.js'
import { consoleUrl } from '../console-key.js'
import { appName, ECOSYSTEM_FILE, writeEcosystem } from '../ecosystem.js'
import { CliError } from '../errors.js'
import { probeHealth, reachHost } from '../net.js'
import { daemonRuntimeProblem, pm2, pm2List } from '../pm2.js'
import { lastWords } from '../status.js'
import { readTenants } from '../tenants.js'
import { tenantPaths } from '../../config/paths.js'
import { defineCommand } from './command.js'
import { parsePort } from './port.js'

/** How long a reloaded tenant gets to answer /health with OK once PM2 says its new process is ready (generous: a busy machine). */
const HEALTHY_WITHIN_MS = 60_000

export const reloadCommand = defineCommand({
  name: 'reload',
  usage: 'reload [PORT…]         (start or reload, one at a time; all tenants when no port is given)',
  options: {},
  async run ({ root, codeDir, out }, _values, positionals) {
    const tenants = readTenants(root)
    const named = positionals.map(parsePort)
    for (const p of named) if (!tenants.some((t) => t.port === p)) throw new CliError(`port ${p} is not a tenant (no tenants/config-${p}.env)`)
    const chosen = named.length ? tenants.filter((t) => named.includes(t.port)) : tenants
    if (chosen.length === 0) throw new CliError('No tenants yet: npm run tenant:add <PORT>')
    // A process with an invalid config exits at once, and PM2 then stops the old one anyway after its listen timeout:
    // never reload one. Named ones are refused before anything moves; in a whole-fleet reload they are skipped (their
    // running process, if any, keeps running) and the command exits 1 at the end.
    const invalid = chosen.filter((t) => t.error)
    if (invalid.length && named.length) throw new CliError(`nothing reloaded; fix these config files first:\n${invalid.map((t) => `  ${t.error}`).join('\n')}`)
    const procs = await pm2List()
    const daemon = daemonRuntimeProblem(procs)
    if (daemon) throw new CliError(`nothing reloaded: ${daemon}`)
    writeEcosystem(root, codeDir) // the entries follow tenants/ and this code's PM2 settings

    for (const t of invalid) out(`${t.port}: skipped, its config does not load (a running process keeps running): ${t.error}`)
    const valid = chosen.filter((t) => !t.error)
    for (const [i, t] of valid.entries()) {
      const name = appName(t.port)
      const before = procs.find((p) => p.name === name)
      if (before?.status === 'stopped' && named.length === 0) {
        out(`${t.port}: stopped; left stopped (start it with npm run tenant:reload ${t.port})`)
        continue
      }
      const started = Date.now()
      // Returns once the new process said ready (wait_ready) and the old one has drained and exited.
      await pm2(['startOrReload', ECOSYSTEM_FILE, '--only', name], { cwd: root })
      const host = reachHost(t.loaded?.config.HOST)
      let healthy = false
      const deadline = Date.now() + HEALTHY_WITHIN_MS
      while (!healthy && Date.now() < deadline) {
        healthy = (await probeHealth(t.port, 1000, host)).status === 'OK'
        if (!healthy) await sleep(200)
      }
      const after = (await pm2List()).find((p) => p.name === name)
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      if (!healthy || after?.status !== 'online') {
        const why = lastWords(tenantPaths(root, t.port).pm2Log)
        out(`${t.port}: NOT healthy ${seconds} s after ${before ? 'reload' : 'start'} (PM2: ${after?.status ?? 'not listed'})${why ? `; its last start said: ${why}` : ''}`)
        const rest = valid.slice(i + 1).map((x) => x.port)
        if (rest.length) out(`stopped here; not reloaded: ${rest.join(', ')}`)
        return 1
      }
      out(`${t.port}: ${before ? 'reloaded' : 'started'} in ${seconds} s (pid ${before?.pid ? `${before.pid} → ` : ''}${after.pid}), health OK`)
    }
    // The whole fleet includes its console, once it has its settings (npm run console:key).
    if (named.length === 0 && fs.existsSync(consoleFile(root))) {
      const settings = loadConsoleConfig(root)
      await pm2(['startOrReload', ECOSYSTEM_FILE, '--only', CONSOLE_APP], { cwd: root })
      const url = consoleUrl(settings)
      let up = false
      const deadline = Date.now() + HEALTHY_WITHIN_MS
      while (!up && Date.now() < deadline) {
        up = await request(`${url}health`, { signal: AbortSignal.timeout(1000) }).then(async (r) => { await r.body.dump(); return r.statusCode === 200 }, () => false)
        if (!up) await sleep(200)
      }
      out(up ? `console: ${url} answering` : `console: NOT answering on ${url}; see logs/console-pm2.log`)
      if (!up) return 1
    }
    return invalid.length ? 1 : 0
  },
})
