/** One tenant's Kubernetes objects: Secret (its config file), PersistentVolumeClaim (its SQLite), Service, Deployment. */
import { createHash } from 'node:crypto'
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim'
import type { ISecret } from 'kubernetes-models/v1/Secret'
import type { IService } from 'kubernetes-models/v1/Service'
import type { IContainer } from 'kubernetes-models/v1/Container'
import type { IProbe } from 'kubernetes-models/v1/Probe'
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext'
import { SHUTDOWN_GRACE_MS, TENANT_NODE_ARGS } from '../../config/lifecycle.js'
import { PINNED_NODE_PATH } from '../../config/runtime.js'
import { SEED_SCRIPT } from './seed-script.js'

export type TenantObject = ISecret | IPersistentVolumeClaim | IService | IDeployment

/** Where the image keeps the code; the process's root, so it reads and writes APP_DIR/tenants. */
export const APP_DIR = '/app'
export const TENANTS_DIR = `${APP_DIR}/tenants`
/** The image runs the project's pinned Node, installed by `npm ci` into /app (the Dockerfile's CMD names it too). */
export const NODE_BIN = `${APP_DIR}/${PINNED_NODE_PATH}`
/** The image's `node` user, 1000 as in the official Node.js images (numeric, so runAsNonRoot can be verified). */
export const APP_UID = 1000
/** Seconds the pod keeps answering after it is told to stop, while endpoints drop it (kube-proxy, ingress). */
export const PRE_STOP_SECONDS = 5
/** Above preStop + the app's own shutdown grace, so a clean shutdown is never cut by SIGKILL. */
export const TERMINATION_GRACE_SECONDS = PRE_STOP_SECONDS + Math.ceil(SHUTDOWN_GRACE_MS / 1000) + 7

/**
 * Sized from the fleet benchmark (BENCHMARKS.md: idle RSS median 81 MB, highest 85 MB; 97 MB right after
 * start-up) and the batch budget (peak RSS < 150 MB). The request covers an idle tenant, so the scheduler
 * packs nodes by what tenants really hold; the limit leaves room for a batch run and stays below PM2's
 * 300 MB leak guard. CPU: idle is ~0; start-up is ~0.4 s of one core.
 */
export const RESOURCES = {
  requests: { memory: '96Mi', cpu: '50m' },
  limits: { memory: '256Mi', cpu: '500m' },
} as const
const SEED_RESOURCES = { requests: { memory: '16Mi', cpu: '10m' }, limits: { memory: '64Mi', cpu: '100m' } } as const

export interface RenderOptions {
  image: string
  namespace?: string
  /** rolling: surge a new pod next to the old one (same node, same volume), then stop the old; recreate: stop, then start. */
  strategy: 'rolling' | 'recreate'
  serviceType: 'ClusterIP' | 'NodePort' | 'LoadBalancer'
  storageSize: string
  storageClass?: string
  /** Address the process listens on inside the pod. */
  listenHost: string
  /** The app's version, for the app.kubernetes.io/version label. */
  version: string
}

export interface TenantSource {
  port: number
  /** The config file's exact text, carried byte for byte in the Secret. */
  text: string
  tenantName: string
  /** The tenant serves GET /metrics (METRICS_TOKEN set): its pods carry the prometheus.io scrape annotations. */
  metrics?: boolean
}

/** The annotations a Prometheus kubernetes_sd job keeps (docs/KUBERNETES.md, "Metrics"): scrape this pod, where. */
const scrapeAnnotations = (port: number): Record<string, string> => ({
  'prometheus.io/scrape': 'true',
  'prometheus.io/port': String(port),
  'prometheus.io/path': '/metrics',
})

export const names = (port: number) => ({
  app: `clt-v8-${port}`,
  secret: `clt-v8-${port}-config`,
  pvc: `clt-v8-${port}-data`,
  configFile: `config-${port}.env`,
})

export function selectorLabels (port: number): Record<string, string> {
  return { 'app.kubernetes.io/name': 'clt-v8', 'app.kubernetes.io/instance': names(port).app, 'app.kubernetes.io/component': 'tenant-api' }
}

function labels (port: number, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'clt-v8',
    'app.kubernetes.io/instance': names(port).app,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'clt-v8',
    'app.kubernetes.io/managed-by': 'clt-v8-tenant-k8s',
    tenant: String(port),
  }
}

function metadata (name: string, port: number, component: string, opts: RenderOptions, annotations?: Record<string, string>) {
  return {
    name,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    labels: labels(port, component),
    ...(annotations ? { annotations } : {}),
  }
}

export const configHash = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

export function renderTenant (src: TenantSource, opts: RenderOptions): TenantObject[] {
  const n = names(src.port)
  const secret: ISecret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(n.secret, src.port, 'config', opts),
    type: 'Opaque',
    data: { [n.configFile]: Buffer.from(src.text, 'utf8').toString('base64') },
  }
  const pvc: IPersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: metadata(n.pvc, src.port, 'data', opts),
    spec: {
      // One node at a time: SQLite wants a local block filesystem (its locks do not hold on NFS-like volumes).
      accessModes: ['ReadWriteOnce'],
      ...(opts.storageClass ? { storageClassName: opts.storageClass } : {}),
      resources: { requests: { storage: opts.storageSize } },
    },
  }
  const service: IService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(n.app, src.port, 'tenant-api', opts),
    spec: {
      type: opts.serviceType,
      selector: selectorLabels(src.port),
      ports: [{ name: 'http', port: src.port, targetPort: 'http', protocol: 'TCP' }],
    },
  }
  return [secret, pvc, service, deployment(src, opts)]
}

function deployment (src: TenantSource, opts: RenderOptions): IDeployment {
  const n = names(src.port)
  const probe = (periodSeconds: number, failureThreshold: number): IProbe => ({
    httpGet: { path: '/health', port: 'http' },
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold,
  })
  const hardened: ISecurityContext = {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  }
  const seed: IContainer = {
    name: 'seed-config',
    image: opts.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', SEED_SCRIPT, 'seed-config', `/seed/${n.configFile}`, `${TENANTS_DIR}/${n.configFile}`],
    securityContext: hardened,
    resources: SEED_RESOURCES,
    volumeMounts: [
      { name: 'seed', mountPath: '/seed', readOnly: true },
      { name: 'tenants', mountPath: TENANTS_DIR },
    ],
  }
  const api: IContainer = {
    name: 'api',
    image: opts.image,
    imagePullPolicy: 'IfNotPresent',
    // args, not command: the image's ENTRYPOINT (tini) stays PID 1 and forwards SIGTERM to node.
    args: [NODE_BIN, ...TENANT_NODE_ARGS, `${APP_DIR}/bin/clt-v8-api.js`, '--port', String(src.port), '--log-target', 'stdout', '--host', opts.listenHost],
    ports: [{ name: 'http', containerPort: src.port, protocol: 'TCP' }],
    startupProbe: { ...probe(1, 30), timeoutSeconds: 2 },
    readinessProbe: probe(5, 2),
    livenessProbe: probe(10, 3),
    lifecycle: { preStop: { exec: { command: ['sleep', String(PRE_STOP_SECONDS)] } } },
    resources: RESOURCES,
    securityContext: hardened,
    volumeMounts: [
      { name: 'tenants', mountPath: TENANTS_DIR },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  }
  const rolling = opts.strategy === 'rolling'
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(n.app, src.port, 'tenant-api', opts, { 'clt-v8/tenant-name': src.tenantName }),
    spec: {
      replicas: 1,
      revisionHistoryLimit: 5,
      progressDeadlineSeconds: 300,
      minReadySeconds: 3,
      selector: { matchLabels: selectorLabels(src.port) },
      strategy: rolling ? { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } : { type: 'Recreate' },
      template: {
        metadata: {
          labels: { ...labels(src.port, 'tenant-api'), 'app.kubernetes.io/version': opts.version },
          // A changed config file changes the pod template, so applying it rolls the tenant (and re-seeds the volume).
          annotations: { 'clt-v8/config-sha256': configHash(src.text), ...(src.metrics ? scrapeAnnotations(src.port) : {}) },
        },
        spec: {
          automountServiceAccountToken: false,
          // Hundreds of tenant Services would otherwise become thousands of env vars in every pod.
          enableServiceLinks: false,
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: APP_UID,
            runAsGroup: APP_UID,
            fsGroup: APP_UID,
            fsGroupChangePolicy: 'OnRootMismatch',
            seccompProfile: { type: 'RuntimeDefault' },
          },
          // The surge pod must mount the same ReadWriteOnce volume: ask for the old pod's node.
          ...(rolling
            ? {
                affinity: {
                  podAffinity: {
                    preferredDuringSchedulingIgnoredDuringExecution: [
                      { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: selectorLabels(src.port) }, topologyKey: 'kubernetes.io/hostname' } },
                    ],
                  },
                },
              }
            : {}),
          initContainers: [seed],
          containers: [api],
          volumes: [
            { name: 'tenants', persistentVolumeClaim: { claimName: n.pvc } },
            { name: 'seed', secret: { secretName: n.secret, defaultMode: 0o440, items: [{ key: n.configFile, path: n.configFile }] } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  }
}
