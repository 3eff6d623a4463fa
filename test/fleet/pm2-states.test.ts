/**
 * States an operator can trust, under a private PM2: a bad config ends `errored` (not "online" with nothing
 * listening) and tenant:list says why; tenant:check exits 1 for a stopped, invalid or unconfigured tenant and 0 for
 * a healthy one; a PM2 daemon on another Node is named with its fix. Needs `npm run build`.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { main as tenantCli } from '../../src/cli/tenant.js'
import { daemonRuntimeProblem } from '../../src/cli/pm2.js'
import { updateEnvText } from '../../src/config/env-file.js'
import { CODE_DIR } from '../../src/config/paths.js'
import { tempRoot } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { privatePm2, usePm2Home } from '../fixtures/pm2.js'
import { captureStdout } from '../fixtures/stdout.js'
import { waitFor } from '../fixtures/batches.js'

async function cli (args: string[]): Promise<{ code: number; out: string }> {
  const { value, out } = await captureStdout(() => tenantCli(args).catch((e: unknown) => { process.stdout.write(`ERR ${(e as Error).message}\n`); return 1 }))
  return { code: value, out }
}

function setKeys (root: string, port: number, keys: Record<string, string>): void {
  const file = path.join(root, 'tenants', `config-${port}.env`)
  fs.writeFileSync(file, updateEnvText(fs.readFileSync(file, 'utf8'), keys))
}

t.test('bad config → errored with the reason; check exits 1 when down, invalid or without V8 login, 0 when healthy', async (t) => {
  const root = tempRoot(t, 'cltv8-st-')
  const pm = privatePm2(t)
  usePm2Home(t, pm.home)
  const [good, bad] = [await freePort(), await freePort()]
  for (const p of [good, bad]) t.equal((await cli(['add', String(p), '--root', root])).code, 0, `tenant ${p} added`)
  await pm.pm2(['start', 'ecosystem.config.cjs'], { cwd: root })
  await waitFor('both healthy', async () => (await cli(['list', '--root', root])).out.split('\n').filter((l) => / online .* OK /.test(l)).length === 2, 30_000, 200)

  let list = await cli(['list', '--root', root])
  t.match(list.out, new RegExp(`${good} .* online .* OK\\s+V8 login not set, no Kentro, no PresençaBank`), 'list: healthy but V8 login not set')
  let check = await cli(['check', String(good), '--root', root])
  t.equal(check.code, 1, 'check exits 1 for a running tenant without its V8 login')
  t.match(check.out, /result: NOT OK — V8 login not set/, 'and says why')

  setKeys(root, good, { V8_USERNAME: 'ops@example.com', V8_PASSWORD: 'not-a-real-password' })
  check = await cli(['check', String(good), '--root', root])
  t.equal(check.code, 0, `check exits 0 for a healthy, configured tenant:\n${check.out}`)
  t.match(check.out, /Kentro: not set \(flows take borrower data from dados_cliente\)/, 'optional Kentro is noted, not fatal')

  // The operator breaks the file and restarts the tenant: it must end errored, not "online" with nothing listening.
  setKeys(root, bad, { V8_MAX_RPS: 'abc' })
  await pm.pm2(['restart', `clt-v8-api-${bad}`], { cwd: root })
  await waitFor('errored', async () => (await pm.jlist()).find((p) => p.name === `clt-v8-api-${bad}`)?.pm2_env.status === 'errored', 60_000, 250)
  list = await cli(['list', '--root', root])
  t.match(list.out, new RegExp(`${bad} .* INVALID\\s+errored \\(\\d+ restarts\\)\\s+down`), 'list: errored and down')
  t.match(list.out, new RegExp(`${bad}: .*config-${bad}\\.env: V8_MAX_RPS`), 'list: names the bad key')
  check = await cli(['check', String(bad), '--root', root])
  t.equal(check.code, 1, 'check exits 1 for an invalid tenant')
  t.match(check.out, /NOT OK — config invalid/, 'check says config invalid')
  t.match(fs.readFileSync(path.join(root, 'logs', `pm2-${bad}.log`), 'utf8'), /clt-v8: .*V8_MAX_RPS/, 'the process wrote its one line before exiting')

  const reload = await cli(['reload', String(bad), '--root', root])
  t.equal(reload.code, 1, 'tenant:reload refuses an invalid config it is asked for')
  t.match(reload.out, /nothing reloaded; fix these config files first/, 'and says so')
  const pidGood = (await pm.jlist()).find((p) => p.name === `clt-v8-api-${good}`)?.pid
  const fleet = await cli(['reload', '--root', root])
  t.equal(fleet.code, 1, 'a whole-fleet reload with one invalid tenant exits 1…')
  t.match(fleet.out, new RegExp(`${bad}: skipped, its config does not load`), '…skips that one…')
  t.match(fleet.out, new RegExp(`${good}: reloaded .* health OK`), '…and reloads the others')
  t.not((await pm.jlist()).find((p) => p.name === `clt-v8-api-${good}`)?.pid, pidGood, 'the good tenant has a new process')

  await pm.pm2(['stop', `clt-v8-api-${good}`], { cwd: root })
  check = await cli(['check', String(good), '--root', root])
  t.equal(check.code, 1, 'check exits 1 for a stopped tenant')
  t.match(check.out, /not answering/, 'says it does not answer')
})

t.test('the PM2 daemon\'s Node is named when it is not the pinned one', async (t) => {
  t.match(daemonRuntimeProblem([{ name: 'x', status: 'errored', pid: 0, memory: 0, restarts: 3, daemonNode: '20.20.2' }]), /PM2 daemon runs on Node 20\.20\.2.*npx pm2 update/, 'a Node 20 daemon is a problem, with the fix')
  t.equal(daemonRuntimeProblem([{ name: 'x', status: 'online', pid: 1, memory: 0, restarts: 0, daemonNode: process.versions.node }]), undefined, 'the pinned Node is fine')

  // For real, when this machine has another Node (the README's Node 20): a global pm2 started with it.
  let other: string | undefined
  try {
    const v = execFileSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).trim()
    if (Number(v.slice(1).split('.')[0]) !== Number(process.versions.node.split('.')[0])) other = v
  } catch {
    other = undefined
  }
  if (!other) {
    t.comment('no other Node at /usr/bin/node on this machine; the end-to-end part is skipped')
    return
  }
  const root = tempRoot(t, 'cltv8-n20-')
  const pm = privatePm2(t)
  usePm2Home(t, pm.home)
  const port = await freePort()
  t.equal((await cli(['add', String(port), '--root', root])).code, 0, 'tenant added')
  execFileSync('/usr/bin/node', [path.join(CODE_DIR, 'node_modules', 'pm2', 'bin', 'pm2'), 'start', 'ecosystem.config.cjs'], { cwd: root, env: { ...process.env, PM2_HOME: pm.home }, stdio: 'ignore' })
  await waitFor('errored', async () => (await pm.jlist()).find((p) => p.name === `clt-v8-api-${port}`)?.pm2_env.status === 'errored', 60_000, 250)
  const list = await cli(['list', '--root', root])
  t.match(list.out, new RegExp(`PROBLEM: the PM2 daemon runs on Node ${other.slice(1).replace(/\./g, '\\.')}`), `list names the daemon's Node (${other})`)
  t.match(list.out, /npx pm2 update/, 'and the fix')
  const check = await cli(['check', String(port), '--root', root])
  t.equal(check.code, 1, 'check exits 1')
  t.match(check.out, /PM2 daemon on the wrong Node/, 'check says why')
  const reload = await cli(['reload', '--root', root])
  t.equal(reload.code, 1, 'tenant:reload refuses to run on that daemon')

  // The fix the message gives, run the way the README says (the pm2 of the project, on the pinned Node).
  await pm.pm2(['update'], { cwd: root })
  await waitFor('online after pm2 update', async () => (await cli(['check', String(port), '--root', root])).out.includes('health: OK'), 60_000, 300)
  t.notMatch((await cli(['list', '--root', root])).out, /PROBLEM/, 'no problem once the daemon runs the pinned Node')
})
