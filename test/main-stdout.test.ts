/** The container log mode: `--log-target stdout` (and `--host`) override the tenant file; the real bin logs JSON lines to stdout. */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { parsePortArg } from '../src/main.js'
import { TEST_API_KEY, tempRoot, writeTenantConfig } from './fixtures/config.js'
import { freePort } from './fixtures/net.js'

t.test('parsePortArg reads the process overrides', async (t) => {
  t.same(parsePortArg(['--port', '6000', '--root', '/r'], undefined), { port: 6000, root: '/r' }, 'no override by default')
  t.match(parsePortArg(['--port', '6000', '--log-target', 'stdout'], undefined), { logTarget: 'stdout' }, 'stdout accepted')
  t.match(parsePortArg(['--port', '6000', '--log-target', 'files'], undefined), { logTarget: 'files' }, 'files accepted')
  t.match(parsePortArg(['--port', '6000', '--host', '0.0.0.0'], undefined), { host: '0.0.0.0' }, 'host read')
  t.throws(() => parsePortArg(['--port', '6000', '--log-target', 'syslog'], undefined), /--log-target "syslog" must be files or stdout/, 'unknown target refused')
  t.throws(() => parsePortArg(['--port', '6000', '--host', ' '], undefined), /--host needs an address/, 'empty host refused')
  t.throws(() => parsePortArg(['--port', '6000', '--log-target'], undefined), 'a flag without its value refused')
})

const bin = path.resolve('bin/clt-v8-api.js')
const built = fs.existsSync(path.resolve('dist/main.js'))

const SECRETS = {
  SANDBOX: 'true', // the upstream URLs below are on loopback
  V8_USERNAME: 'operador@example.com',
  V8_PASSWORD: 'v8-password-do-not-log-4711',
  KENTRO_API_URL: 'http://127.0.0.1:9/kentro/int',
  KENTRO_API_KEY: 'kentro-key-do-not-log-0815',
  KENTRO_QUEUE_ID: '7',
  PRESENCABANK_URL: 'http://127.0.0.1:9/presenca',
  PRESENCABANK_LOGIN: 'login',
  PRESENCABANK_PASSWORD: 'presenca-password-do-not-log-42',
}
const CPF = '46210648860'

t.test('bin --log-target stdout: JSON lines on stdout, nothing under logs/, SIGTERM exits 0', { skip: built ? false : 'dist/ not built (npm run build)' }, async (t) => {
  const root = tempRoot(t, 'cltv8-stdout-')
  const port = await freePort()
  // The file asks for rotated files and another host: the flags must win.
  writeTenantConfig(root, port, { ...SECRETS, LOG_TARGET: 'files', HOST: 'localhost', TENANT_NAME: 'Stdout' })
  const child = spawn(process.execPath, [bin, '--port', String(port), '--root', root, '--log-target', 'stdout', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '' },
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))

  const base = `http://127.0.0.1:${port}`
  let healthy = false
  for (let i = 0; i < 150 && !healthy && child.exitCode === null; i++) {
    try {
      const res = await request(`${base}/health`)
      await res.body.dump()
      healthy = res.statusCode === 200
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  t.ok(healthy, `answers /health within 15 s (stderr: ${err})`)
  if (!healthy) return

  // Requests that carry the API key (right and wrong) and a CPF in the URL: none may reach a log line in clear.
  for (const auth of [`Bearer ${TEST_API_KEY}`, 'Bearer wrong-key']) {
    const res = await request(`${base}/cache/simulacao/${CPF}`, { headers: { authorization: auth } })
    await res.body.dump()
  }
  // Lines are written asynchronously: wait for the request lines before stopping.
  for (let i = 0; i < 100 && (out.match(/request completed/g) ?? []).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20))

  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  const code = await exited
  clearTimeout(timer)
  t.equal(code, 0, 'exit code 0 after SIGTERM')

  const lines = out.split('\n').filter((l) => l.trim() !== '')
  t.ok(lines.length >= 5, `several log lines on stdout (got ${lines.length})`)
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>
    } catch {
      return undefined
    }
  })
  t.equal(parsed.filter((p) => p === undefined).length, 0, 'every stdout line is JSON')
  const good = parsed.filter((p): p is Record<string, unknown> => p !== undefined)
  t.ok(good.every((p) => typeof p['level'] === 'number'), 'every line has a numeric level')
  t.ok(good.every((p) => typeof p['time'] === 'string' && !Number.isNaN(Date.parse(p['time']))), 'every line has an ISO time')
  t.ok(good.every((p) => typeof p['msg'] === 'string'), 'every line has a msg')
  t.ok(good.every((p) => p['port'] === port), 'every line names the tenant port')
  const listening = good.find((p) => p['msg'] === 'listening')
  t.equal(listening?.['host'], '127.0.0.1', '--host overrode the file HOST')
  t.ok(good.some((p) => p['msg'] === 'shutting down' && p['signal'] === 'SIGTERM'), 'logged the SIGTERM')
  t.ok(good.some((p) => p['msg'] === 'stopped'), 'logged its stop (flushed before exit)')
  t.ok(good.some((p) => typeof p['msg'] === 'string' && p['msg'].includes('request completed')), 'request lines are there too')

  for (const [key, value] of Object.entries({ API_KEY: TEST_API_KEY, ...SECRETS })) {
    if (!/PASSWORD|KEY/.test(key)) continue
    t.notOk(out.includes(value) || err.includes(value), `${key} appears in no output`)
  }
  t.ok(out.includes('/cache/simulacao/***.***.*88-60'), 'the request URL is logged, CPF masked')
  t.notOk(out.includes(CPF), 'the CPF never appears in clear')
  t.same(fs.readdirSync(path.join(root, 'logs')), [], 'no file under logs/')
  t.same(fs.readdirSync(path.join(root, 'tenants')).filter((f) => f.endsWith('.log')), [], 'no log file under tenants/')
  t.equal(err, '', 'nothing on stderr')
})
