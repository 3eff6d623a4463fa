/** README command 1, end to end: npm run demo → sandbox + demo tenant under a private PM2 → the printed curl works. */
import fs from 'node:fs'
import t from 'tap'
import { request } from 'undici'
import { main as demo } from '../../src/cli/demo.js'
import { tempRoot } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { privatePm2, usePm2Home } from '../fixtures/pm2.js'
import { captureStdout } from '../fixtures/stdout.js'

t.test('npm run demo starts the sandbox and a demo tenant, and its curl answers', async (t) => {
  const root = tempRoot(t, 'cltv8-demo-')
  const pm = privatePm2(t)
  usePm2Home(t, pm.home)
  const [port, sandboxPort, consolePort] = [await freePort(), await freePort(), await freePort()]
  const args = ['--root', root, '--port', String(port), '--sandbox-port', String(sandboxPort), '--console-port', String(consolePort)]
  let { value: code, out: printed } = await captureStdout(() => demo(args))
  t.equal(code, 0, 'demo exits 0')
  const names = (await pm.jlist()).map((p) => p.name).sort()
  t.same(names, ['clt-v8-api-' + port, 'clt-v8-console', 'clt-v8-sandbox'].sort(), 'sandbox, demo tenant and the fleet console under PM2')
  const key = /API key of the demo tenant.*\n\s+(\S+)/.exec(printed)?.[1]
  t.ok(key && key.length >= 40, 'prints the API key')
  const curl = /curl -s -X POST (\S+\/clt\/fluxo-completo) .*-d '(\{"cpf":"\d{11}"\})'/.exec(printed)
  t.ok(curl, 'prints a fluxo-completo curl with a CPF')
  t.match(printed, new RegExp(`http://127\\.0\\.0\\.1:${port}/config-v8`), 'prints the config page URL (a port browsers accept)')
  const page = new RegExp(`the demo tenant's config page .*: (http://127\\.0\\.0\\.1:${consolePort}/t/${port}/config-v8)`).exec(printed)?.[1]
  t.ok(page, 'and the page through the fleet console')
  const pageRes = await request(page!)
  t.equal(pageRes.statusCode, 200, 'which opens')
  await pageRes.body.dump()
  const adminKey = /admin key \(shown once\): (\S+)/.exec(printed)?.[1]
  const list = await request(`http://127.0.0.1:${consolePort}/api/tenants`, { headers: { authorization: `Bearer ${adminKey}` } })
  t.equal(list.statusCode, 200, 'the printed admin key opens the console')
  t.match(((await list.body.json()) as { tenants: unknown[] }).tenants, [{ port, name: 'Demo' }], 'listing the demo tenant')

  const res = await request(curl![1]!, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: curl![2]! })
  const body = (await res.body.json()) as { success: boolean; resultado?: { sucesso?: boolean; pendente?: boolean } }
  t.ok([200, 202].includes(res.statusCode), `the printed curl answers (${res.statusCode})`)
  t.equal(body.success, true, 'success:true')

  // Running it again reuses the tenant (same key) and reloads.
  ;({ value: code, out: printed } = await captureStdout(() => demo(args)))
  t.equal(code, 0, 'second run exits 0')
  t.match(printed, /Using the existing tenant/, 'reuses the tenant')
  t.ok(printed.includes(key!), 'same key')
  t.notOk(printed.includes(adminKey!), 'the console admin key is not shown again')
  t.ok(fs.existsSync(`${root}/ecosystem.config.cjs`), 'ecosystem written')
})
