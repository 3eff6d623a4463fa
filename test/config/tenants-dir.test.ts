/** The tenants-folder check: a folder the process cannot write (a bad volume) stops it with one line saying what to mount. */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { CODE_DIR, tenantPaths } from '../../src/config/paths.js'
import { tenantsDirProblem } from '../../src/config/tenants-dir.js'
import { tempRoot, writeTenantConfig } from '../fixtures/config.js'

t.test('a writable folder holding the config: no problem; a missing one is left to the loader', async (t) => {
  const root = tempRoot(t)
  writeTenantConfig(root, 6401)
  t.equal(tenantsDirProblem(tenantPaths(root, 6401)), undefined, 'the usual layout passes')
  t.equal(tenantsDirProblem(tenantPaths(root, 6402)), undefined, 'no config yet: the loader says how to add it')
  t.equal(tenantsDirProblem(tenantPaths(path.join(root, 'nope'), 6401)), undefined, 'no folder: the loader says so')
})

const built = fs.existsSync(path.join(CODE_DIR, 'dist', 'main.js'))
const isRoot = process.getuid?.() === 0
/** The bin as another user: uid 1000 when the suite runs as root (root passes every permission check). */
function startAs1000 (root: string, port: number): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(CODE_DIR, 'bin', 'clt-v8-api.js'), '--port', String(port), '--root', root], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env['PATH'] ?? '' },
    ...(isRoot ? { uid: 1000, gid: 1000 } : {}),
  })
  return { status: r.status, stderr: r.stderr }
}

t.test('the process refuses a folder or file it cannot write, saying what to mount', { skip: built ? false : 'dist/ not built (npm run build)' }, async (t) => {
  const root = tempRoot(t, 'cltv8-dir-')
  fs.chmodSync(root, 0o755)
  const tenants = path.join(root, 'tenants')
  writeTenantConfig(root, 6403)
  // Not writable by the tenant's user: owned by root (suite as root) or without the write bit (suite as a user).
  fs.chmodSync(path.join(tenants, 'config-6403.env'), 0o644)
  fs.chmodSync(tenants, isRoot ? 0o755 : 0o555)
  t.teardown(() => fs.chmodSync(tenants, 0o755))
  let r = startAs1000(root, 6403)
  t.equal(r.status, 1, 'exit 1')
  t.match(r.stderr, new RegExp(`^clt-v8: ${tenants} is not writable by uid \\d+ \\(EACCES\\); it holds the tenant's database`), 'names the folder and the reason')
  t.match(r.stderr, new RegExp(`mount a directory owned by uid \\d+ at ${tenants}, holding config-6403\\.env`), 'says what to mount')
  t.notOk(fs.existsSync(path.join(tenants, 'data-6403.sqlite')), 'no database half-created')

  // Writable folder, config file the user cannot read (a root-owned 0600 file).
  fs.chmodSync(tenants, 0o777)
  fs.chmodSync(path.join(tenants, 'config-6403.env'), isRoot ? 0o600 : 0o200)
  r = startAs1000(root, 6403)
  t.equal(r.status, 1, 'unreadable config: exit 1')
  t.match(r.stderr, /config-6403\.env cannot be read and written by uid \d+ \(EACCES, owned by uid \d+, mode 0[26]00\); give it to that user/, 'names the file, its owner and mode')
})
