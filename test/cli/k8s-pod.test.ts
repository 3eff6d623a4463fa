/** What the rendered manifests do, run here without a cluster: strict field names, the init copy script, the pod's commands. */
import { spawn, spawnSync, type ChildProcess, type ChildProcessByStdio } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import t, { type Test } from 'tap'
import ts from 'typescript'
import { request } from 'undici'
import { parseAllDocuments } from 'yaml'
import { main } from '../../src/cli/k8s.js'
import { SEED_SCRIPT } from '../../src/cli/k8s/seed-script.js'
import { CODE_DIR } from '../../src/config/paths.js'
import { tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'

type Any = any

async function render (args: string[]): Promise<Any[]> {
  let out = ''
  const code = await main(args, { out: (s) => { out += s }, err: () => undefined })
  if (code !== 0) throw new Error(`tenant:k8s exited ${code}`)
  return parseAllDocuments(out).map((d) => d.toJS() as Any)
}

/** A container's command run here without its image's environment: its output so far and its exit; killed in teardown. */
function runContainer (t: Test, args: string[]): { child: ChildProcessByStdio<null, Readable, Readable>; output: () => string; exited: Promise<number | null> } {
  const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => out, exited }
}

/** The readiness probe as the kubelet runs it: `url` until a 200, the process exits, or 150 tries; the last status. */
async function probeReady (url: string, child: ChildProcess): Promise<number> {
  let status = 0
  for (let i = 0; i < 150 && status !== 200 && child.exitCode === null; i++) {
    try {
      const res = await request(url)
      await res.body.dump()
      status = res.statusCode
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return status
}

const TYPES: Record<string, [string, string]> = {
  Secret: ['ISecret', 'kubernetes-models/v1/Secret'],
  PersistentVolumeClaim: ['IPersistentVolumeClaim', 'kubernetes-models/v1/PersistentVolumeClaim'],
  Service: ['IService', 'kubernetes-models/v1/Service'],
  Deployment: ['IDeployment', 'kubernetes-models/apps/v1/Deployment'],
  ConfigMap: ['IConfigMap', 'kubernetes-models/v1/ConfigMap'],
}

/**
 * kubectl's strict field validation refuses unknown fields, which the JSON-schema validator lets through.
 * The kubernetes-models types are generated from the same OpenAPI document, and TypeScript's excess-property
 * check on an object literal catches an unknown field at any depth: type-check each object as a literal.
 */
function unknownFieldErrors (objects: Any[]): string[] {
  const file = path.join(CODE_DIR, 'test', 'cli', '__k8s_strict_check__.ts')
  const imports = Object.values(TYPES).map(([name, mod]) => `import type { ${name} } from '${mod}'`)
  const decls = objects.map((o, i) => `export const o${i}: ${TYPES[o.kind]?.[0] ?? 'never'} = ${JSON.stringify(o, null, 1)}`)
  const source = [...imports, ...decls].join('\n') + '\n'
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  }
  const host = ts.createCompilerHost(options)
  const { getSourceFile, fileExists, readFile } = host
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, source, lang) : getSourceFile.call(host, f, lang, ...rest))
  host.fileExists = (f) => f === file || fileExists.call(host, f)
  host.readFile = (f) => (f === file ? source : readFile.call(host, f))
  const program = ts.createProgram([file], options, host)
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
}

t.test('every field name is one the Kubernetes API knows (strict validation)', async (t) => {
  const root = tempRoot(t)
  writeTenantConfig(root, 6301)
  writeTenantConfig(root, 6302)
  const rolling = await render(['--root', root])
  const recreate = await render(['--root', root, '--strategy', 'recreate', '--namespace', 'x', '--storage-class', 'ssd'])
  t.equal(rolling.length + recreate.length, 24, 'rendered both variants (two tenants and the console each)')
  t.same(unknownFieldErrors([...rolling, ...recreate]), [], 'no unknown field, no wrong type')

  const typo = structuredClone(rolling.find((o) => o.kind === 'Deployment'))
  typo.spec.template.spec.containers[0].readinesProbe = typo.spec.template.spec.containers[0].readinessProbe
  const errors = unknownFieldErrors([typo])
  t.equal(errors.length, 1, 'a misspelt field is caught (the check can fail)')
  t.match(errors[0] ?? '', /readinesProbe/, 'and named')
})

function seed (src: string, dst: string): { code: number | null; out: string; err: string } {
  const r = spawnSync('sh', ['-c', SEED_SCRIPT, 'seed-config', src, dst], { encoding: 'utf8' })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

t.test('init script: copies the Secret once, keeps page edits, takes a changed Secret', async (t) => {
  const dir = tempRoot(t)
  const src = path.join(dir, 'seed.env')
  const dst = path.join(dir, 'tenants', 'config-6000.env')
  const mark = path.join(dir, 'tenants', '.config-6000.env.seeded-sha256')
  fs.writeFileSync(src, "PORT=6000\nV8_USERNAME='a'\n")

  let r = seed(src, dst)
  t.equal(r.code, 0, `first start: exit 0 (${r.err})`)
  t.match(r.out, /copied from the Secret \(first start\)/, 'first start: says it copied')
  t.equal(fs.readFileSync(dst, 'utf8'), fs.readFileSync(src, 'utf8'), 'the volume gets the Secret file')
  t.equal(fs.statSync(dst).mode & 0o777, 0o600, 'mode 0600')
  t.equal(fs.readFileSync(mark, 'utf8').trim(), createHash('sha256').update(fs.readFileSync(src)).digest('hex'), 'remembers which Secret it copied')

  fs.writeFileSync(dst, "PORT=6000\nV8_USERNAME='edited on the page'\n")
  r = seed(src, dst)
  t.equal(r.code, 0, 'restart: exit 0')
  t.match(r.out, /kept the volume's copy/, 'restart with the same Secret: keeps the volume copy')
  t.match(fs.readFileSync(dst, 'utf8'), /edited on the page/, 'page edit survives a restart')

  fs.writeFileSync(src, "PORT=6000\nV8_USERNAME='b'\n")
  r = seed(src, dst)
  t.equal(r.code, 0, 'changed Secret: exit 0')
  t.match(r.out, /the Secret changed; previous file kept as config-6000\.env\.bak/, 'says why it replaced the file')
  t.match(fs.readFileSync(dst, 'utf8'), /V8_USERNAME='b'/, 'changed Secret wins')
  t.match(fs.readFileSync(`${dst}.bak`, 'utf8'), /edited on the page/, 'the replaced file is kept as .bak')
  t.notOk(fs.readdirSync(path.dirname(dst)).some((f) => f.includes('tmp')), 'no temp file left')

  fs.rmSync(dst)
  r = seed(src, dst)
  t.match(r.out, /first start/, 'a deleted volume copy is copied again')
  t.ok(fs.existsSync(dst), 'and is there')

  r = seed(path.join(dir, 'nope.env'), dst)
  t.not(r.code, 0, 'missing Secret file: fails')
  t.match(r.err, /is missing \(is the Secret mounted\?\)/, 'and says so')
})

const built = fs.existsSync(path.join(CODE_DIR, 'dist', 'main.js'))

t.test('the rendered pod, run here: init copies, the api answers its probe path, SIGTERM within the grace', { skip: built ? false : 'dist/ not built (npm run build)' }, async (t) => {
  const operator = tempRoot(t, 'cltv8-op-')
  const pod = tempRoot(t, 'cltv8-pod-')
  const port = await freePort()
  writeTenantConfig(operator, port, { TENANT_NAME: 'Pod' })
  const objects = await render(['--root', operator, '--only', String(port)])
  const secret = objects.find((o) => o.kind === 'Secret')
  const spec = objects.find((o) => o.kind === 'Deployment').spec.template.spec
  // What the kubelet does: the Secret's items become files under the mount path; the claim is the tenants folder.
  const mapPath = (p: string): string => p.replace(/^\/seed\//, `${pod}/seed/`).replace(/^\/app\/tenants\//, `${pod}/tenants/`)
  fs.mkdirSync(path.join(pod, 'seed'))
  for (const item of spec.volumes.find((v: Any) => v.name === 'seed').secret.items) {
    fs.writeFileSync(path.join(pod, 'seed', item.path), Buffer.from(secret.data[item.key], 'base64'))
  }
  const init = spec.initContainers[0]
  const r = spawnSync(init.command[0], init.command.slice(1).map(mapPath), { encoding: 'utf8' })
  t.equal(r.status, 0, `init container exits 0 (${r.stderr})`)

  const api = spec.containers[0]
  const args: string[] = api.args.map((a: string, i: number, all: string[]) =>
    i === 0 ? process.execPath : a === '/app/bin/clt-v8-api.js' ? path.join(CODE_DIR, 'bin', 'clt-v8-api.js') : all[i - 1] === '--host' ? '127.0.0.1' : a
  )
  // --root stands for the image's /app (loopback-only host in tests: the pod itself listens on 0.0.0.0).
  const { child, output, exited } = runContainer(t, [...args, '--root', pod])
  const status = await probeReady(`http://127.0.0.1:${port}${api.readinessProbe.httpGet.path as string}`, child)
  t.equal(status, 200, `readiness path answers 200 (output: ${output().slice(0, 500)})`)
  t.ok(fs.existsSync(path.join(pod, 'tenants', `data-${port}.sqlite`)), 'the SQLite file is on the volume')
  t.match(output(), /^\{"level":30,/m, 'JSON log lines on stdout')

  const started = Date.now()
  child.kill('SIGTERM')
  const code = await exited
  t.equal(code, 0, 'SIGTERM: exit 0')
  t.ok(Date.now() - started < (spec.terminationGracePeriodSeconds - 5) * 1000, 'stopped well within the grace period')
  t.same(fs.readdirSync(path.join(pod, 'logs')), [], 'no log files')
  const again = spawnSync(init.command[0], init.command.slice(1).map(mapPath), { encoding: 'utf8' })
  t.match(again.stdout, /kept the volume's copy/, 'pod restart: the volume copy is kept')
})

t.test('the rendered console pod, run here: its fleet file and settings as mounted, probe, list, proxy, SIGTERM', { skip: built ? false : 'dist/ not built (npm run build)' }, async (t) => {
  const operator = tempRoot(t, 'cltv8-op-')
  const mount = tempRoot(t, 'cltv8-console-pod-')
  const port = await freePort()
  writeTenantConfig(operator, port, { TENANT_NAME: 'Pod' })
  const objects = await render(['--root', operator])
  const mine = (kind: string): Any => objects.find((o) => o.kind === kind && o.metadata.labels['app.kubernetes.io/instance'] === 'clt-v8-console')
  const spec = mine('Deployment').spec.template.spec
  // What the kubelet does: the projected volume's items become files under the mount path.
  const dir = path.join(mount, 'etc')
  fs.mkdirSync(dir)
  const configText = Buffer.from(mine('Secret').data['console.env'], 'base64').toString('utf8')
  fs.writeFileSync(path.join(dir, 'console.env'), configText)
  // What the cluster's DNS does: the tenant's Service name resolves to where the tenant runs (here, loopback).
  const fleet = mine('ConfigMap').data['fleet.json'].replace(`http://clt-v8-${port}:${port}`, `http://127.0.0.1:${port}`)
  fs.writeFileSync(path.join(dir, 'fleet.json'), fleet)
  t.match(spec.volumes[0].projected.sources, [{ configMap: { name: 'clt-v8-console-fleet' } }, { secret: { name: 'clt-v8-console-config' } }], 'the mount is the ConfigMap and the Secret')

  const { pino } = await import('pino')
  const { loadTenantConfig } = await import('../../src/config/load.js')
  const { ConfigStore } = await import('../../src/config/store.js')
  const { openDatabase } = await import('../../src/db/database.js')
  const { createTenant } = await import('../../src/tenant.js')
  const loaded = loadTenantConfig(operator, port)
  const tenant = await createTenant({ config: new ConfigStore(loaded.config, loaded.file), db: openDatabase(':memory:'), logger: pino({ level: 'silent' }), batch: { start: false }, events: { start: false } })
  t.teardown(() => tenant.close())
  await tenant.app.listen({ port, host: '127.0.0.1' })

  const consolePort = await freePort()
  const c = spec.containers[0]
  const args: string[] = c.args.map((a: string, i: number, all: string[]) =>
    i === 0 ? process.execPath : a === '/app/bin/clt-v8-console.js' ? path.join(CODE_DIR, 'bin', 'clt-v8-console.js') : a.startsWith('/etc/clt-v8/') ? a.replace('/etc/clt-v8', dir) : all[i - 1] === '--host' ? '127.0.0.1' : all[i - 1] === '--port' ? String(consolePort) : a
  )
  const { child, output, exited } = runContainer(t, args)
  const status = await probeReady(`http://127.0.0.1:${consolePort}${c.readinessProbe.httpGet.path as string}`, child)
  t.equal(status, 200, `the console's probe path answers 200 (output: ${output().slice(0, 500)})`)
  const key = /ADMIN_KEY='([^']+)'/.exec(configText)?.[1]
  const list = await request(`http://127.0.0.1:${consolePort}/api/tenants`, { headers: { authorization: `Bearer ${key}` } })
  const body = await list.body.json() as { tenants: Array<Record<string, unknown>> }
  t.match(body.tenants, [{ port, name: 'Pod', pm2: 'n/a', health: 'OK' }], 'the tenant from the fleet file, healthy, no PM2 in a cluster')
  const proxied = await request(`http://127.0.0.1:${consolePort}/t/${port}/health`)
  t.equal(proxied.statusCode, 200, 'the tenant through the console')
  await proxied.body.dump()
  t.match(output(), /^\{"level":30,/m, 'JSON log lines on stdout')
  t.notOk(output().includes(key!), 'the admin key is not in the logs')
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM: exit 0')
})
