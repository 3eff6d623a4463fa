/** The console's fleet file (Kubernetes): read and checked once, when the console starts; a bad file fails then, saying what is wrong. */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { FileFleet } from '../../src/console/fleet.js'
import { tempRoot } from '../fixtures/config.js'

const good = { tenants: [{ port: 6000, name: 'Cliente A', url: 'http://clt-v8-6000:6000' }, { port: 6001, name: 'Cliente B', url: 'http://clt-v8-6001:6001' }] }

t.test('read once: targets from the file, and a later change to the file is not picked up per request', async (t) => {
  const file = path.join(tempRoot(t, 'cltv8-fleet-'), 'fleet.json')
  fs.writeFileSync(file, JSON.stringify(good))
  const fleet = new FileFleet(file, { healthTimeoutMs: 50 })
  t.same(fleet.target(6000), { port: 6000, origin: 'http://clt-v8-6000:6000' }, "a tenant's Service")
  t.equal(fleet.target(7000), undefined, 'a port not in the file: no target')
  fs.writeFileSync(file, '{ broken')
  t.same(fleet.target(6001), { port: 6001, origin: 'http://clt-v8-6001:6001' }, 'the file is not read again (a changed fleet rolls the pod)')
  fs.rmSync(file)
  const rows = await fleet.rows()
  t.same(rows.map((r) => [r.port, r.name, r.pm2]), [[6000, 'Cliente A', 'n/a'], [6001, 'Cliente B', 'n/a']], 'rows from the fleet read at start, even with the file gone')
})

t.test('a bad fleet file fails at construction, naming the file and what is wrong', async (t) => {
  const dir = tempRoot(t, 'cltv8-fleet-')
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, text)
    return file
  }
  const cases: Array<[string, string, RegExp]> = [
    ['missing.json', '', /^fleet file .*missing\.json: cannot be read \(ENOENT/],
    ['broken.json', '{ "tenants": [', /^fleet file .*broken\.json: not JSON \(/],
    ['no-tenants.json', '{}', /^fleet file .*no-tenants\.json: tenants expected array, received undefined$/],
    ['bad-url.json', JSON.stringify({ tenants: [{ port: 6000, name: 'A', url: 'https://evil.example.com/x' }] }), /^fleet file .*bad-url\.json: tenants\.0\.url must be http:\/\/<service>:<port>$/],
    ['bad-port.json', JSON.stringify({ tenants: [good.tenants[0], { port: 80, name: 'B', url: 'http://b:80' }] }), /^fleet file .*bad-port\.json: tenants\.1\.port /],
  ]
  for (const [name, text, message] of cases) {
    const file = name === 'missing.json' ? path.join(dir, name) : write(name, text)
    t.throws(() => new FileFleet(file), message, `${name}: refused with a clear message`)
  }
})
