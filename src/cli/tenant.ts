/** Operator commands: `tenant add|remove|list|check|ecosystem` (npm run tenant:add 6000 …). */
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { presencaConfigured } from '../config/schema.js'
import { CODE_DIR, tenantPaths } from '../config/paths.js'
import { appName, writeEcosystem } from './ecosystem.js'
import { probeHealth } from './net.js'
import { pm2, pm2DaemonRunning, pm2List } from './pm2.js'
import { addTenant, CliError, parsePort } from './tenant-add.js'
import { readTenants } from './tenants.js'

const out = (s: string): void => { process.stdout.write(s + '\n') }

const USAGE = `usage:
  npm run tenant:add <PORT> [-- --name "Cliente" --sandbox [--sandbox-url URL] --import OLD.env --host H --default-gender M|F|none]
  npm run tenant:remove <PORT> [-- --force --purge]
  npm run tenant:list
  npm run tenant:check <PORT>
  npm run tenant:backup <PORT> [-- --out FILE]
  npm run tenant:ecosystem`

export async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      sandbox: { type: 'boolean', default: false },
      'sandbox-url': { type: 'string' },
      import: { type: 'string' },
      host: { type: 'string' },
      'default-gender': { type: 'string' },
      force: { type: 'boolean', default: false },
      purge: { type: 'boolean', default: false },
      root: { type: 'string' },
      out: { type: 'string' },
    },
  })
  const root = values.root ?? CODE_DIR
  const port = positionals[0]
  switch (command) {
    case 'add': {
      if (!port) throw new CliError('tenant:add needs a port, e.g. npm run tenant:add 6000')
      const r = await addTenant({
        root,
        codeDir: CODE_DIR,
        port,
        ...(values.name !== undefined ? { name: values.name } : {}),
        sandbox: values.sandbox,
        ...(values['sandbox-url'] !== undefined ? { sandboxUrl: values['sandbox-url'] } : {}),
        ...(values.import !== undefined ? { importFile: values.import } : {}),
        ...(values.host !== undefined ? { host: values.host } : {}),
        ...(values['default-gender'] !== undefined ? { defaultGender: values['default-gender'] } : {}),
      })
      const eco = writeEcosystem(root, CODE_DIR)
      out(r.completedSeed ? `Completed the existing config ${r.file} (kept its values, added what was missing).` : `Created ${r.file} (mode 0600).`)
      for (const w of r.warnings) out(`  note: ${w}`)
      out(`API key for port ${r.port} (shown once; keep it in the client's bot config):\n\n  ${r.apiKey}\n`)
      out(`Regenerated ${eco.file} (${eco.ports.length} tenant(s)${eco.sandboxPorts.length ? ', + sandbox' : ''}).`)
      out(`Next: npx pm2 startOrReload ecosystem.config.cjs   then open http://<host>:${r.port}/config-v8`)
      return 0
    }
    case 'remove': {
      if (!port) throw new CliError('tenant:remove needs a port')
      const p = parsePort(port)
      const paths = tenantPaths(root, p)
      if (!fs.existsSync(paths.configFile)) throw new CliError(`port ${p} is not a tenant (no ${paths.configFile})`)
      const proc = (await pm2List()).find((x) => x.name === appName(p))
      const health = await probeHealth(p, 500)
      const running = (proc !== undefined && proc.status === 'online') || health.reachable
      if (running && !values.force) {
        throw new CliError(`tenant ${p} is running${proc ? ` under PM2 (${proc.name})` : ''}; stop it first or pass --force`)
      }
      if (proc) await pm2(['delete', proc.name])
      for (const f of [paths.configFile, `${paths.configFile}.bak`]) fs.rmSync(f, { force: true })
      if (values.purge) {
        for (const f of [paths.dbFile, `${paths.dbFile}-wal`, `${paths.dbFile}-shm`]) fs.rmSync(f, { force: true })
        for (const f of fs.existsSync(paths.logsDir) ? fs.readdirSync(paths.logsDir) : []) {
          if (new RegExp(`^(out|error|pm2)-${p}(\\.|$)`).test(f)) fs.rmSync(`${paths.logsDir}/${f}`, { force: true })
        }
        fs.rmSync(`${paths.logsDir}/${p}`, { recursive: true, force: true }) // the rotated files
      }
      const eco = writeEcosystem(root, CODE_DIR)
      out(`Removed tenant ${p}${proc ? ' (deleted from PM2)' : ''}.${values.purge ? ' Its database and logs were deleted.' : ` Its data is kept in ${paths.dbFile} (use --purge to delete).`}`)
      out(`Regenerated ${eco.file} (${eco.ports.length} tenant(s)).`)
      return 0
    }
    case 'list': {
      const tenants = readTenants(root)
      const procs = await pm2List()
      const rows = [['PORT', 'NAME', 'CONFIG', 'PM2', 'HEALTH']]
      for (const t of tenants) {
        const proc = procs.find((p) => p.name === appName(t.port))
        const health = await probeHealth(t.port, 800)
        rows.push([
          String(t.port),
          t.loaded?.config.TENANT_NAME ?? '?',
          t.loaded ? (t.loaded.warnings.length ? `ok (${t.loaded.warnings.length} note(s))` : 'ok') : 'INVALID',
          proc ? `${proc.status}${proc.restarts ? ` (${proc.restarts} restarts)` : ''}` : pm2DaemonRunning() ? 'not in pm2' : 'pm2 not running',
          health.reachable ? String(health.status) : 'down',
        ])
      }
      if (tenants.length === 0) out('No tenants yet: npm run tenant:add <PORT>')
      else out(formatTable(rows))
      for (const t of tenants) if (t.error) out(`  ${t.error}`)
      return 0
    }
    case 'check': {
      if (!port) throw new CliError('tenant:check needs a port')
      const p = parsePort(port)
      const t = readTenants(root).find((x) => x.port === p)
      if (!t) throw new CliError(`port ${p} is not a tenant; run npm run tenant:add ${p}`)
      if (t.error) {
        out(t.error)
        return 1
      }
      const c = t.loaded!.config
      out(`${t.loaded!.file}: ok — ${c.TENANT_NAME}, V8 ${c.V8_USERNAME ? `user ${c.V8_USERNAME}` : 'login not set (open /config-v8)'}, Kentro ${c.KENTRO_API_URL ? 'configured' : 'not configured'}, PresençaBank ${presencaConfigured(c) ? 'configured' : 'off'}`)
      out(`  default gender (DEFAULT_GENDER): ${genderLine(c.DEFAULT_GENDER)}`)
      for (const w of t.loaded!.warnings) out(`  note: ${w}`)
      if (/api\.v8digital\.com/.test(c.V8_API_URL)) out(`  warning: V8_API_URL=${c.V8_API_URL} is the older system's wrong host; the BFF is https://bff.v8sistema.com`)
      const health = await probeHealth(p, 800)
      out(`  health: ${health.reachable ? String(health.status) : 'not answering'}`)
      return 0
    }
    case 'backup': {
      if (!port) throw new CliError('tenant:backup needs a port')
      const p = parsePort(port)
      const paths = tenantPaths(root, p)
      if (!fs.existsSync(paths.dbFile)) throw new CliError(`no database for port ${p} (${paths.dbFile})`)
      const target = values.out ?? `${paths.dbFile.replace(/\.sqlite$/, '')}-${new Date().toISOString().replace(/[:.]/g, '-')}.backup.sqlite`
      // The copy holds the V8 token and CPFs: it is created 0600 before the first byte is written (and SQLite's
      // own journal beside it inherits the 0077 umask); an existing file is never overwritten.
      const umask = process.umask(0o077)
      try {
        try {
          fs.closeSync(fs.openSync(target, 'wx', 0o600))
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${target} already exists; not overwriting it (choose another --out)`)
          throw err
        }
        // SQLite's online backup: consistent while the tenant keeps running.
        const db = new Database(paths.dbFile, { readonly: true, fileMustExist: true })
        try {
          await db.backup(target)
        } catch (err) {
          fs.rmSync(target, { force: true })
          throw err
        } finally {
          db.close()
        }
      } finally {
        process.umask(umask)
      }
      out(`Backed up ${paths.dbFile} → ${target}`)
      return 0
    }
    case 'ecosystem': {
      const eco = writeEcosystem(root, CODE_DIR)
      out(`${eco.changed ? 'Wrote' : 'Unchanged:'} ${eco.file} (${eco.ports.length} tenant(s)${eco.sandboxPorts.length ? ', + sandbox' : ''}).`)
      for (const s of eco.skipped) out(`  skipped: ${s}`)
      return 0
    }
    default:
      out(USAGE)
      return command === undefined || command === 'help' ? 0 : 2
  }
}

/** How tenant:check names the declared default gender. */
export function genderLine (g: string): string {
  return g === ''
    ? 'none declared — a CPF whose gender neither the request, the CRM nor V8 knows gets 422 dados_faltantes (sexo)'
    : `${g}, declared by this tenant — used only when the request, the CRM and V8 do not know it, and recorded as padrao_tenant`
}

function formatTable (rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${fs.realpathSync(process.argv[1])}`).href
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof CliError ? '' : 'error: '}${err instanceof Error ? err.message : String(err)}\n`)
      process.exitCode = 1
    }
  )
}
