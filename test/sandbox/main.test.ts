/** The sandbox process: argument parsing, and the built bin under fork (ready message, JSON logs, clean SIGTERM). */
import { fork } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { DEFAULT_HOST, DEFAULT_PORT, parseSandboxArgs } from '../../src/sandbox/main.js'

t.test('arguments', async (t) => {
  const dflt = parseSandboxArgs([])
  t.equal(dflt.port, DEFAULT_PORT, 'port 7070 by default')
  t.equal(dflt.host, DEFAULT_HOST, 'loopback by default')
  const args = parseSandboxArgs(['--port', '7171', '--host', '0.0.0.0', '--token-ttl', '5', '--consult-delay-ms', '50', '--slow-ms', '900', '--seed', '3'])
  t.match(args, { port: 7171, host: '0.0.0.0', options: { tokenTtlSeconds: 5, consultDelayMs: 50, slowMs: 900, seed: 3 } }, 'every option read')
  t.throws(() => parseSandboxArgs(['--port', 'abc']), /--port/, 'bad port refused')
  t.throws(() => parseSandboxArgs(['--token-ttl', '0']), /--token-ttl/, 'zero token lifetime refused')
  t.throws(() => parseSandboxArgs(['--nope']), 'unknown option refused')
})

const bin = path.resolve('bin/clt-v8-sandbox.js')
const built = fs.existsSync(path.resolve('dist/sandbox/main.js'))

t.test('bin: ready over IPC, serves, stops cleanly on SIGTERM', { skip: built ? false : 'dist/ not built (npm run build)' }, async (t) => {
  const child = fork(bin, ['--port', '0', '--consult-delay-ms', '10'], { silent: true })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready message; output: ${out}`)), 15_000)
    child.on('message', (m) => {
      clearTimeout(timer)
      resolve(String(m))
    })
  })
  t.equal(ready, 'ready', "process.send('ready') after listen")
  // Log lines are written asynchronously: give the listening line a moment to arrive.
  for (let i = 0; i < 100 && !out.includes('sandbox listening'); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  const line = out.split('\n').find((l) => l.includes('sandbox listening'))
  t.ok(line, 'a JSON log line says it listens')
  const url = (JSON.parse(line ?? '{}') as { url?: string }).url ?? ''
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'with its real URL')
  const res = await request(`${url}/__sandbox/stats`)
  t.equal(res.statusCode, 200, 'serves the control plane')
  await res.body.dump()
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'exit code 0 after SIGTERM')
  t.match(out, /"msg":"stopped"/, 'logged its stop')
})
