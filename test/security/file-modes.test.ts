/**
 * Finding 8 (file modes), against real processes: log files 0600 in 0700 folders, the database 0600, a config temp
 * file left by a kill -9 during a save removed at the next start, and tenant:backup 0600 from its first byte.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { CODE_DIR } from '../../src/config/paths.js'
import { call, closeAgents, NEEDS_BUILD, startSecuredTenant } from '../fixtures/security.js'

t.teardown(closeAgents)

const mode = (p: string): number => fs.statSync(p).mode & 0o777

t.test('logs, database and their folders are private to the owner, even where an older version left them open', { skip: NEEDS_BUILD }, async (t) => {
  const first = await startSecuredTenant(t)
  await first.stop()
  // What the earlier version left: a 0755 folder and 0644 files.
  const logDir = path.join(first.root, 'logs', String(first.port))
  fs.chmodSync(path.join(first.root, 'logs'), 0o755)
  fs.chmodSync(logDir, 0o755)
  fs.writeFileSync(path.join(logDir, 'out.1.log'), '{"old":true}\n', { mode: 0o644 })
  fs.chmodSync(path.join(first.root, 'tenants', `data-${first.port}.sqlite`), 0o644)

  const tenant = await startSecuredTenant(t, { root: first.root, port: first.port, writeConfig: false })
  await call(tenant, 'GET', '/nao-existe')
  await call(tenant, 'POST', '/config/v8/salvar', { json: { username: 'a@b.co', password: 'x' } })
  t.equal(mode(path.join(tenant.root, 'logs')), 0o700, 'logs/ 0700')
  t.equal(mode(logDir), 0o700, 'logs/<port>/ 0700')
  for (const f of fs.readdirSync(logDir)) t.equal(mode(path.join(logDir, f)), 0o600, `logs/<port>/${f} 0600`)
  for (const f of fs.readdirSync(path.join(tenant.root, 'tenants')).filter((n) => n.startsWith(`data-${tenant.port}`) || n.startsWith('config-'))) {
    t.equal(mode(path.join(tenant.root, 'tenants', f)), 0o600, `tenants/${f} 0600`)
  }
})

t.test('a kill -9 during saves: the temp copy of the config it may leave is removed at the next start', { skip: NEEDS_BUILD }, async (t) => {
  let tenant = await startSecuredTenant(t)
  const tenantsDir = path.join(tenant.root, 'tenants')
  const temps = (): string[] => fs.readdirSync(tenantsDir).filter((n) => n.startsWith(`.config-${tenant.port}.env.tmp-`))
  // Try to catch a save mid-write a few times (bounded); whether or not one is caught, plant what it leaves.
  let caught = 0
  for (let attempt = 0; attempt < 3 && caught === 0; attempt++) {
    const saves = Array.from({ length: 200 }, (_, i) => call(tenant, 'POST', '/config/v8/salvar', { json: { username: `u${i}@b.co`, password: `p${i}` } }).catch(() => null))
    await new Promise((resolve) => setTimeout(resolve, 30 + attempt * 20))
    tenant.child.kill('SIGKILL')
    await tenant.exited
    await Promise.all(saves)
    caught = temps().length
    tenant = await startSecuredTenant(t, { root: tenant.root, port: tenant.port, writeConfig: false })
    t.same(temps(), [], `attempt ${attempt + 1}: no temp file after the restart (${caught} left by the kill)`)
  }
  await tenant.stop()
  const planted = path.join(tenantsDir, `.config-${tenant.port}.env.tmp-999999-1-x`)
  fs.writeFileSync(planted, 'API_KEY=every-secret\n', { mode: 0o600 })
  const again = await startSecuredTenant(t, { root: tenant.root, port: tenant.port, writeConfig: false })
  t.notOk(fs.existsSync(planted), 'a dead writer\'s temp file is removed at start')
  t.ok(again.alive(), 'and the tenant runs')
})

t.test('tenant:backup creates its copy 0600 before the first byte and never overwrites', { skip: NEEDS_BUILD }, async (t) => {
  const tenant = await startSecuredTenant(t)
  await tenant.stop()
  // A database large enough that the copy takes a while to write.
  const dbFile = path.join(tenant.root, 'tenants', `data-${tenant.port}.sqlite`)
  const db = new Database(dbFile)
  db.exec('CREATE TABLE IF NOT EXISTS filler (b BLOB)')
  const insert = db.prepare('INSERT INTO filler VALUES (?)')
  db.transaction(() => { for (let i = 0; i < 400; i++) insert.run(Buffer.alloc(64 * 1024, i)) })()
  db.close()
  const target = path.join(tenant.root, 'tenants', 'copy.sqlite')
  const modes = new Set<number>()
  let watching = true
  const watch = (): void => {
    try {
      modes.add(mode(target))
    } catch {
      // not created yet
    }
    if (watching) setImmediate(watch)
  }
  watch()
  const cli = spawn(process.execPath, [path.join(CODE_DIR, 'scripts', 'tenant.js'), 'backup', String(tenant.port), '--root', tenant.root, '--out', target], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  cli.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const code = await new Promise<number | null>((resolve) => cli.once('exit', (c) => resolve(c)))
  watching = false
  t.equal(code, 0, `backup ok ${err}`)
  t.ok(modes.size > 0, 'the file was seen while it was written')
  t.same([...modes], [0o600], 'every look at it saw 0600')
  t.ok(fs.statSync(target).size > 20 * 1024 * 1024, 'the copy is whole')
  const second = spawn(process.execPath, [path.join(CODE_DIR, 'scripts', 'tenant.js'), 'backup', String(tenant.port), '--root', tenant.root, '--out', target], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err2 = ''
  second.stderr.on('data', (d: Buffer) => { err2 += d.toString() })
  t.equal(await new Promise<number | null>((resolve) => second.once('exit', (c) => resolve(c))), 1, 'a second backup to the same file fails')
  t.match(err2, /already exists; not overwriting/, 'and says why')
})
