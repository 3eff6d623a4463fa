import { spawn } from 'node:child_process'
import path from 'node:path'
import t from 'tap'
import { databaseProbe, migrate, openDatabase } from '../../src/db/database.js'
import { MIGRATIONS } from '../../src/db/migrations.js'
import { CODE_DIR } from '../../src/config/paths.js'
import { tempRoot } from '../fixtures/config.js'

t.test('a new file is migrated to the latest version with WAL, a busy timeout and a bounded page cache', async (t) => {
  const root = tempRoot(t)
  const file = path.join(root, 'tenants', 'data-6000.sqlite')
  const db = openDatabase(file)
  t.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length, 'at the latest version')
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal', 'WAL journal')
  t.equal(db.pragma('synchronous', { simple: true }), 1, 'synchronous NORMAL')
  t.ok((db.pragma('busy_timeout', { simple: true }) as number) >= 1000, 'busy timeout set')
  t.equal(db.pragma('cache_size', { simple: true }), -2000, 'a 2 MB page cache (better-sqlite3 builds SQLite with 16 MB)')
  t.equal(migrate(db), MIGRATIONS.length, 'migrating again is a no-op')
  const probe = databaseProbe(db)
  t.ok(probe(), 'health probe ok')
  t.ok(probe(), 'and again (statement reused)')
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name)
  for (const name of ['batch_items', 'batches', 'config_audit', 'flow_results', 'presenca_results', 'presenca_terms', 'simulation_cache', 'token_cache']) t.ok(tables.includes(name), `table ${name}`)
  db.close()
  t.notOk(probe(), 'health probe false once closed')
})

t.test('two processes opening and writing the same new file at once (a reload overlap) are safe', async (t) => {
  const root = tempRoot(t)
  const file = path.join(root, 'tenants', 'data-6001.sqlite')
  const script = `
    const { openDatabase } = await import(${JSON.stringify(path.join(CODE_DIR, 'dist', 'db', 'database.js'))})
    const db = openDatabase(${JSON.stringify(file)})
    const ins = db.prepare("INSERT INTO config_audit (at, ip, action, keys) VALUES (?, 'x', 'p' || ?, 'K')")
    for (let i = 0; i < 300; i++) ins.run(i, process.pid)
    db.close()
  `
  const runOne = (): Promise<number> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] })
      child.on('exit', (code) => resolve(code ?? -1))
    })
  const codes = await Promise.all([runOne(), runOne(), runOne()])
  t.same(codes, [0, 0, 0], 'all three processes migrated and wrote without error')
  const db = openDatabase(file)
  t.equal((db.prepare('SELECT count(*) AS n FROM config_audit').get() as { n: number }).n, 900, 'every write landed once')
  t.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length, 'migrated once to the latest version')
  db.close()
})
