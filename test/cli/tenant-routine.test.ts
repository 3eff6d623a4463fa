/** Routine tenant tasks without PM2: key fingerprint and rotation, backup → restore round trip and its refusals, purge. */
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import { MANIFEST_TABLE } from '../../src/cli/backup-file.js'
import { main } from '../../src/cli/tenant.js'
import { keyFingerprint } from '../../src/config/keys.js'
import { listBackups } from '../../src/config/backups.js'
import { updateEnvText } from '../../src/config/env-file.js'
import { loadTenantConfig } from '../../src/config/load.js'
import { openDatabase } from '../../src/db/database.js'
import { tempRoot } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { captureStdout } from '../fixtures/stdout.js'

// Never look at the operator's real PM2: point PM2_HOME at an empty folder (no daemon there).
process.env['PM2_HOME'] = fs.mkdtempSync(path.join(os.tmpdir(), 'p2-'))
t.teardown(() => fs.rmSync(process.env['PM2_HOME']!, { recursive: true, force: true }))

async function cli (args: string[]): Promise<{ code: number; out: string; err: string }> {
  let err = ''
  const { value: code, out } = await captureStdout(() => main(args).catch((e: unknown) => { err = (e as Error).message; return 1 }))
  return { code, out, err }
}

/** A tenant with a database holding `rows` audit rows. */
async function tenantWithData (t: Test, root: string, rows: number): Promise<number> {
  const port = await freePort()
  t.equal((await cli(['add', String(port), '--root', root, '--name', 'Before'])).code, 0, 'tenant added')
  const db = openDatabase(path.join(root, 'tenants', `data-${port}.sqlite`))
  for (let i = 0; i < rows; i++) db.prepare("INSERT INTO config_audit (at, ip, action, keys) VALUES (?, '127.0.0.1', 'test', 'X')").run(i)
  db.close()
  return port
}

const auditRows = (root: string, port: number): number => {
  const db = openDatabase(path.join(root, 'tenants', `data-${port}.sqlite`))
  try {
    return (db.prepare('SELECT count(*) AS n FROM config_audit').get() as { n: number }).n
  } finally {
    db.close()
  }
}

t.test('tenant:key shows a fingerprint, never the key; --rotate prints a new key once and rewrites the file', async (t) => {
  const root = tempRoot(t)
  const port = await freePort()
  await cli(['add', String(port), '--root', root])
  const old = loadTenantConfig(root, port).config.API_KEY
  const shown = await cli(['key', String(port), '--root', root])
  t.equal(shown.code, 0, 'exit 0')
  t.ok(shown.out.includes(keyFingerprint(old)), 'prints the fingerprint')
  t.notOk(shown.out.includes(old), 'never the key')
  t.match(shown.out, /shown once, when it is made/, 'says why it cannot be shown again')

  const rotated = await cli(['key', String(port), '--root', root, '--rotate'])
  t.equal(rotated.code, 0, `rotated: ${rotated.err}`)
  const fresh = loadTenantConfig(root, port).config.API_KEY
  t.not(fresh, old, 'a new key in the file')
  t.ok(rotated.out.includes(fresh), 'the new key printed')
  t.notOk(rotated.out.includes(old), 'the old key not printed')
  t.match(rotated.out, /not running: it starts with the new key/, 'says the stopped tenant starts with it')
  t.equal(fs.statSync(path.join(root, 'tenants', `config-${port}.env`)).mode & 0o777, 0o600, 'still 0600')
  t.equal(listBackups(path.join(root, 'tenants', `config-${port}.env`)).length, 1, 'the previous file kept as a copy')
})

t.test('backup → restore round trip: database and config come back; the replaced files are kept aside', async (t) => {
  const root = tempRoot(t)
  const port = await tenantWithData(t, root, 3)
  const target = path.join(root, 'b.sqlite')
  const b = await cli(['backup', String(port), '--root', root, '--out', target])
  t.equal(b.code, 0, `backup ok ${b.err}`)
  t.equal(fs.statSync(target).mode & 0o777, 0o600, 'backup is 0600')
  const inside = new Database(target, { readonly: true })
  t.equal((inside.prepare(`SELECT value FROM ${MANIFEST_TABLE} WHERE key = 'config'`).get() as { value: string }).value, fs.readFileSync(path.join(root, 'tenants', `config-${port}.env`), 'utf8'), 'the config file is inside, byte for byte')
  inside.close()
  t.equal((await cli(['backup', String(port), '--root', root, '--out', target])).code, 1, 'an existing backup file is never overwritten')

  // Life goes on after the backup: more rows, a renamed tenant.
  const file = path.join(root, 'tenants', `config-${port}.env`)
  fs.writeFileSync(file, updateEnvText(fs.readFileSync(file, 'utf8'), { TENANT_NAME: 'After' }))
  const db = openDatabase(path.join(root, 'tenants', `data-${port}.sqlite`))
  db.prepare("INSERT INTO config_audit (at, ip, action, keys) VALUES (99, '127.0.0.1', 'later', 'Y')").run()
  db.close()
  t.equal(auditRows(root, port), 4, 'four rows before restoring')

  const r = await cli(['restore', String(port), target, '--root', root])
  t.equal(r.code, 0, `restored: ${r.err}`)
  t.equal(auditRows(root, port), 3, 'the database is the backup\'s')
  t.equal(loadTenantConfig(root, port).config.TENANT_NAME, 'Before', 'the config is the backup\'s')
  const tenantsDir = fs.readdirSync(path.join(root, 'tenants'))
  t.ok(tenantsDir.some((f) => f.startsWith(`data-${port}.sqlite.before-restore-`)), 'the replaced database kept aside')
  t.notOk(tenantsDir.some((f) => f.includes('restore-tmp')), 'no temp file left')
  t.match(fs.readFileSync(listBackups(file)[0]!, 'utf8'), /TENANT_NAME='?After/, 'the replaced config kept as a copy')
  const restored = new Database(path.join(root, 'tenants', `data-${port}.sqlite`), { readonly: true })
  t.notOk(restored.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(MANIFEST_TABLE), 'the manifest table is not put into the tenant database')
  restored.close()
})

t.test('restore refuses a damaged, foreign or tampered backup, and a running tenant without --force', async (t) => {
  const root = tempRoot(t)
  const port = await tenantWithData(t, root, 50)
  const good = path.join(root, 'good.sqlite')
  t.equal((await cli(['backup', String(port), '--root', root, '--out', good])).code, 0, 'backup made')
  const before = fs.readFileSync(path.join(root, 'tenants', `data-${port}.sqlite`))

  const damaged = path.join(root, 'damaged.sqlite')
  const bytes = fs.readFileSync(good)
  for (let i = 4096; i < bytes.length; i += 97) bytes[i] = bytes[i]! ^ 0xff // every page after the first
  fs.writeFileSync(damaged, bytes)
  t.match((await cli(['restore', String(port), damaged, '--root', root])).err, /integrity check|not a usable backup|malformed|not a readable/, 'damaged file refused')

  t.match((await cli(['restore', String(port + 1 > 65535 ? port - 1 : port + 1), good, '--root', root])).err, /is a backup of port/, 'another port\'s backup refused')

  const tampered = path.join(root, 'tampered.sqlite')
  fs.copyFileSync(good, tampered)
  const db = new Database(tampered)
  db.prepare(`UPDATE ${MANIFEST_TABLE} SET value = value || 'V8_PASSWORD=evil\n' WHERE key = 'config'`).run()
  db.close()
  t.match((await cli(['restore', String(port), tampered, '--root', root])).err, /does not match its checksum/, 'a config changed inside the backup refused')

  const bare = path.join(root, 'bare.sqlite')
  fs.copyFileSync(path.join(root, 'tenants', `data-${port}.sqlite`), bare)
  t.match((await cli(['restore', String(port), bare, '--root', root])).err, /not a tenant:backup file/, 'a bare database copy refused')

  const server = http.createServer((_req, res) => res.end('{"status":"OK"}'))
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  t.match((await cli(['restore', String(port), good, '--root', root])).err, /is running; stop it first .* or pass --force/, 'refused while running')
  t.match((await cli(['restore', String(port), good, '--root', root, '--force'])).err, /answers but is not under this PM2/, '--force cannot stop a process outside PM2')
  await new Promise<void>((resolve) => server.close(() => resolve()))
  t.same(fs.readFileSync(path.join(root, 'tenants', `data-${port}.sqlite`)), before, 'nothing was touched by any refusal')
})

t.test('--purge deletes everything the tenant left; leftovers of an already removed tenant can be purged', async (t) => {
  const root = tempRoot(t)
  const port = await tenantWithData(t, root, 1)
  const file = path.join(root, 'tenants', `config-${port}.env`)
  fs.writeFileSync(file, updateEnvText(fs.readFileSync(file, 'utf8'), { TENANT_NAME: 'x' })) // no copy: direct write
  await cli(['key', String(port), '--root', root, '--rotate']) // leaves a .bak- copy
  await cli(['backup', String(port), '--root', root]) // a backup in tenants/
  fs.mkdirSync(path.join(root, 'logs', String(port)))
  fs.writeFileSync(path.join(root, 'logs', String(port), 'out.2026-11-29.1.log'), 'x')
  for (const f of [`out-${port}.log`, `error-${port}.log`, `pm2-${port}.log`]) fs.writeFileSync(path.join(root, 'logs', f), 'x')
  const other = await tenantWithData(t, root, 1) // must survive

  t.equal((await cli(['remove', String(port), '--root', root])).code, 0, 'plain remove')
  const kept = fs.readdirSync(path.join(root, 'tenants')).filter((f) => f.includes(String(port)))
  t.ok(kept.some((f) => f.endsWith('.backup.sqlite')) && kept.includes(`data-${port}.sqlite`), 'plain remove keeps data and backups')
  t.notOk(kept.some((f) => f.startsWith(`config-${port}`)), 'plain remove deletes the config and its copies')
  const listed = await cli(['remove', String(port), '--root', root])
  t.match(listed.err, new RegExp(`not a tenant any more, but left \\d+ file\\(s\\)[\\s\\S]*data-${port}\\.sqlite[\\s\\S]*tenant:remove ${port} -- --purge`), 'a second remove lists the leftovers and the command')

  const purged = await cli(['remove', String(port), '--root', root, '--purge'])
  t.equal(purged.code, 0, `purged: ${purged.err}`)
  const everything = [...fs.readdirSync(path.join(root, 'tenants')), ...fs.readdirSync(path.join(root, 'logs'))]
  t.same(everything.filter((f) => f.includes(String(port))), [], 'nothing of the port is left in tenants/ or logs/ (logs/<PORT>/ included)')
  t.ok(everything.includes(`config-${other}.env`) && everything.includes(`data-${other}.sqlite`), 'the other tenant is untouched')
  t.match((await cli(['remove', String(port), '--root', root, '--purge'])).out, /Nothing of port \d+ is left/, 'purging again says there is nothing left')

  const p3 = await tenantWithData(t, root, 1)
  fs.mkdirSync(path.join(root, 'logs', String(p3)))
  t.equal((await cli(['remove', String(p3), '--root', root, '--purge'])).code, 0, 'remove --purge of a live tenant in one go')
  t.same([...fs.readdirSync(path.join(root, 'tenants')), ...fs.readdirSync(path.join(root, 'logs'))].filter((f) => f.includes(String(p3))), [], 'all gone')
})
