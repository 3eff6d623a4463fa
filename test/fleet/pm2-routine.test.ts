/**
 * Routine tasks on a tenant running under a private PM2: rotating its key without a restart (the old key refused as
 * soon as the command returns) and restoring a backup with --force (stopped, restored, started). Needs `npm run build`.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { main as tenantCli } from '../../src/cli/tenant.js'
import { loadTenantConfig } from '../../src/config/load.js'
import { tempRoot } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { privatePm2, usePm2Home } from '../fixtures/pm2.js'
import { captureStdout } from '../fixtures/stdout.js'
import { waitHealthy } from '../fixtures/batches-process.js'

async function cli (args: string[]): Promise<{ code: number; out: string }> {
  const { value, out } = await captureStdout(() => tenantCli(args).catch((e: unknown) => { process.stdout.write(`ERR ${(e as Error).message}\n`); return 1 }))
  return { code: value, out }
}

async function status (port: number, key: string, urlPath = '/config/v8/atual'): Promise<number> {
  const res = await request(`http://127.0.0.1:${port}${urlPath}`, { headers: { authorization: `Bearer ${key}` } })
  await res.body.dump()
  return res.statusCode
}

t.test('key rotation and restore on a running tenant', async (t) => {
  const root = tempRoot(t, 'cltv8-rt-')
  const pm = privatePm2(t)
  usePm2Home(t, pm.home)
  const port = await freePort()
  t.equal((await cli(['add', String(port), '--root', root, '--name', 'Routine'])).code, 0, 'added')
  t.equal((await cli(['reload', String(port), '--root', root])).code, 0, 'started')
  await waitHealthy(port)
  const pid = async (): Promise<number | undefined> => (await pm.jlist()).find((p) => p.name === `clt-v8-api-${port}`)?.pid

  const oldKey = loadTenantConfig(root, port).config.API_KEY
  t.equal(await status(port, oldKey), 200, 'the key works')
  const pidBefore = await pid()
  const rotated = await cli(['key', String(port), '--root', root, '--rotate'])
  t.equal(rotated.code, 0, `rotated:\n${rotated.out}`)
  const newKey = loadTenantConfig(root, port).config.API_KEY
  t.equal(await status(port, oldKey), 401, 'the old key is refused as soon as the command returned')
  t.equal(await status(port, newKey), 200, 'the new key works')
  t.equal(await pid(), pidBefore, 'no restart')
  t.match(rotated.out, /not restarted\) now accepts only the new key/, 'the command says so')
  t.match(fs.readFileSync(path.join(root, 'logs', `out-${port}.log`), 'utf8'), /config: re-read on SIGHUP/, 'the tenant logged the re-read')

  // A batch created after the backup must be gone after the restore; the config (and key) come back too.
  const backup = path.join(root, 'before.sqlite')
  t.equal((await cli(['backup', String(port), '--root', root, '--out', backup])).code, 0, 'backup of the running tenant')
  const create = await request(`http://127.0.0.1:${port}/clt/lotes`, { method: 'POST', headers: { authorization: `Bearer ${newKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpfs: ['00000000000'] }) })
  const lote = ((await create.body.json()) as { lote_id: string }).lote_id
  t.equal(create.statusCode, 202, 'a batch created after the backup')
  t.equal((await cli(['key', String(port), '--root', root, '--rotate'])).code, 0, 'the key rotated again after the backup')

  const refused = await cli(['restore', String(port), backup, '--root', root])
  t.equal(refused.code, 1, 'restore refuses while it runs')
  t.match(refused.out, /is running; stop it first/, 'and says how')
  const restored = await cli(['restore', String(port), backup, '--root', root, '--force'])
  t.equal(restored.code, 0, `restore --force:\n${restored.out}`)
  t.match(restored.out, /Stopped clt-v8-api-\d+[\s\S]*Restored port[\s\S]*Started clt-v8-api-\d+ again: health OK/, 'stopped, restored, started')
  t.equal(loadTenantConfig(root, port).config.API_KEY, newKey, 'the config is the backup\'s (the key at backup time)')
  t.equal(await status(port, newKey, `/clt/lotes/${lote}`), 404, 'the batch created after the backup is gone')
  t.equal(await status(port, newKey, '/clt/lotes'), 200, 'the restored tenant answers with the restored key')
})
