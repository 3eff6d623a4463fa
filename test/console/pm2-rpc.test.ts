/** Pm2Rpc against real private PM2 daemons: each home answers for its own daemon, and process.env is never touched. */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Pm2Rpc, pm2Conf } from '../../src/console/pm2-rpc.js'
import { privatePm2, type PrivatePm2 } from '../fixtures/pm2.js'

/** A private daemon running one idle app named `name`. */
async function daemonWith (t: Parameters<typeof privatePm2>[0], name: string): Promise<PrivatePm2> {
  const d = privatePm2(t)
  const script = path.join(d.home, 'idle.cjs')
  fs.writeFileSync(script, 'setInterval(() => {}, 60_000)\n')
  await d.pm2(['start', script, '--name', name, '--no-autorestart'], { env: { PM2_PROGRAMMATIC: 'true' } })
  return d
}

/** Every write or delete of process.env while `fn` runs (process.env swapped for a recording proxy, then restored). */
async function envWrites<T> (fn: () => Promise<T>): Promise<{ value: T; writes: string[] }> {
  const real = process.env
  const writes: string[] = []
  process.env = new Proxy(real, {
    set (target, key, value) {
      writes.push(`set ${String(key)}`)
      return Reflect.set(target, key, value)
    },
    deleteProperty (target, key) {
      writes.push(`delete ${String(key)}`)
      return Reflect.deleteProperty(target, key)
    },
  })
  try {
    return { value: await fn(), writes }
  } finally {
    process.env = real
  }
}

t.test('two homes in one process: each list is its own daemon, with PM2_HOME elsewhere and left alone', async (t) => {
  const [a, b] = await Promise.all([daemonWith(t, 'app-of-home-a'), daemonWith(t, 'app-of-home-b')])
  const decoy = fs.mkdtempSync('/tmp/p2-decoy-')
  t.teardown(() => fs.rmSync(decoy, { recursive: true, force: true }))
  const before = process.env['PM2_HOME']
  process.env['PM2_HOME'] = decoy
  t.teardown(() => {
    if (before === undefined) delete process.env['PM2_HOME']
    else process.env['PM2_HOME'] = before
  })

  // pm2 loads the `debug` package, which deletes an empty DEBUG from the environment once, when first loaded:
  // load pm2 before watching, so what is watched is the listing.
  pm2Conf(decoy)
  const rpcA = new Pm2Rpc(a.home)
  const rpcB = new Pm2Rpc(b.home)
  t.teardown(() => { rpcA.close(); rpcB.close() })
  const { value: [listA, listB], writes } = await envWrites(async () => [await rpcA.list(10_000), await rpcB.list(10_000)])

  t.same(listA?.map((p) => p.name), ['app-of-home-a'], 'home A answers with its own app')
  t.same(listB?.map((p) => p.name), ['app-of-home-b'], 'home B answers with its own app, not the first home\'s')
  t.equal(listA?.[0]?.status, 'online', 'the state comes through')
  t.ok((listA?.[0]?.pid ?? 0) > 0, 'and the pid')
  t.same(writes, [], 'process.env is not written while listing')
  t.equal(process.env['PM2_HOME'], decoy, 'PM2_HOME is still what it was')
  t.same(fs.readdirSync(decoy), [], 'nothing was created in the PM2_HOME of the environment')
})

t.test('a home without a daemon is "no PM2", and nothing is created in it', async (t) => {
  const empty = fs.mkdtempSync('/tmp/p2-none-')
  t.teardown(() => fs.rmSync(empty, { recursive: true, force: true }))
  const rpc = new Pm2Rpc(empty)
  t.equal(await rpc.list(2000), undefined, 'no socket → undefined')
  t.same(fs.readdirSync(empty), [], 'the home stays empty')
})
