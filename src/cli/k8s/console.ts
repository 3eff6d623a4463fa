/**
 * The fleet console's Kubernetes objects: a ConfigMap with the fleet file (each tenant's port, name and Service
 * URL: no secret), a Secret with its console.env (the admin key), a Service and a Deployment running the same image
 * with `bin/clt-v8-console.js --fleet …`. In a cluster the console reads no tenants/ folder and no PM2: the fleet
 * file says where each tenant is, each tenant's /health says the rest.
 */
import { createHash } from 'node:crypto'
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap'
import type { ISecret } from 'kubernetes-models/v1/Secret'
import type { IService } from 'kubernetes-models/v1/Service'
import type { IProbe } from 'kubernetes-models/v1/Probe'
import { CONSOLE_APP, CONSOLE_FILE } from '../../config/console.js'
import type { FleetFile } from '../../console/fleet.js'
import { APP_DIR, APP_UID, names, NODE_BIN, type RenderOptions } from './manifests.js'

export type ConsoleObject = IConfigMap | ISecret | IService | IDeployment

const FLEET_FILE = 'fleet.json'
const MOUNT = '/etc/clt-v8'

const labels = (component: string): Record<string, string> => ({
  'app.kubernetes.io/name': 'clt-v8',
  'app.kubernetes.io/instance': CONSOLE_APP,
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/part-of': 'clt-v8',
  'app.kubernetes.io/managed-by': 'clt-v8-tenant-k8s',
})
const selector = { 'app.kubernetes.io/name': 'clt-v8', 'app.kubernetes.io/instance': CONSOLE_APP, 'app.kubernetes.io/component': 'console' }

export interface ConsoleSource {
  tenants: Array<{ port: number; name: string }>
  /** The console.env text (its ADMIN_KEY), carried byte for byte in the Secret. */
  configText: string
  /** The port the console listens on (console.env's PORT). */
  port: number
}

/** Where the console reaches each tenant in the cluster: its Service, on its port. */
function fleetFile (tenants: ConsoleSource['tenants']): FleetFile {
  return { tenants: tenants.map((t) => ({ port: t.port, name: t.name, url: `http://${names(t.port).app}:${t.port}` })) }
}

export function renderConsole (src: ConsoleSource, opts: RenderOptions): ConsoleObject[] {
  const meta = (name: string, component: string) => ({ name, ...(opts.namespace ? { namespace: opts.namespace } : {}), labels: labels(component) })
  const fleet = `${JSON.stringify(fleetFile(src.tenants), null, 2)}\n`
  const configMap: IConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${CONSOLE_APP}-fleet`, 'console'), data: { [FLEET_FILE]: fleet } }
  const secret: ISecret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(`${CONSOLE_APP}-config`, 'config'),
    type: 'Opaque',
    data: { [CONSOLE_FILE]: Buffer.from(src.configText, 'utf8').toString('base64') },
  }
  const service: IService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(CONSOLE_APP, 'console'),
    spec: { type: opts.serviceType, selector, ports: [{ name: 'http', port: src.port, targetPort: 'http', protocol: 'TCP' }] },
  }
  const probe = (periodSeconds: number, failureThreshold: number): IProbe => ({ httpGet: { path: '/health', port: 'http' }, periodSeconds, timeoutSeconds: 3, failureThreshold })
  const deployment: IDeployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(CONSOLE_APP, 'console'),
    spec: {
      replicas: 1,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      // Stateless: a new pod beside the old one, then the old one goes.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: { ...labels('console'), 'app.kubernetes.io/version': opts.version },
          // A changed fleet or admin key changes the template: applying it rolls the console.
          annotations: { 'clt-v8/fleet-sha256': createHash('sha256').update(fleet + src.configText).digest('hex') },
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 10,
          securityContext: { runAsNonRoot: true, runAsUser: APP_UID, runAsGroup: APP_UID, fsGroup: APP_UID, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: 'console',
            image: opts.image,
            imagePullPolicy: 'IfNotPresent',
            // args, not command: the image's ENTRYPOINT (tini) stays PID 1.
            args: [NODE_BIN, `${APP_DIR}/bin/clt-v8-console.js`, '--fleet', `${MOUNT}/${FLEET_FILE}`, '--config', `${MOUNT}/${CONSOLE_FILE}`, '--log-target', 'stdout', '--host', opts.listenHost, '--port', String(src.port)],
            ports: [{ name: 'http', containerPort: src.port, protocol: 'TCP' }],
            readinessProbe: probe(5, 2),
            livenessProbe: probe(10, 3),
            resources: { requests: { memory: '64Mi', cpu: '20m' }, limits: { memory: '192Mi', cpu: '500m' } },
            securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            volumeMounts: [{ name: 'config', mountPath: MOUNT, readOnly: true }],
          }],
          volumes: [{
            name: 'config',
            projected: {
              defaultMode: 0o440,
              sources: [
                { configMap: { name: `${CONSOLE_APP}-fleet`, items: [{ key: FLEET_FILE, path: FLEET_FILE }] } },
                { secret: { name: `${CONSOLE_APP}-config`, items: [{ key: CONSOLE_FILE, path: CONSOLE_FILE }] } },
              ],
            },
          }],
        },
      },
    },
  }
  return [configMap, secret, service, deployment]
}
