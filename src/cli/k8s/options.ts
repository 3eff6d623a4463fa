/** Arguments of `npm run tenant:k8s`: parsed and checked, each refusal naming the flag and what it accepts. */
import { parseArgs } from 'node:util'
import type { RenderOptions } from './manifests.js'

export class K8sArgsError extends Error {
  override name = 'K8sArgsError'
}

export interface K8sArgs {
  render: RenderOptions
  out?: string
  only: number[]
  root?: string
  help: boolean
}

export const USAGE = `usage: npm run tenant:k8s -- [options]
  --out DIR              one file per tenant (DIR/clt-v8-<PORT>.yaml, mode 0600) instead of YAML on stdout
  --image REF            container image (default clt-v8:<version>); push it where the cluster can pull it
  --namespace NS         set metadata.namespace (default: none, kubectl's -n or context decides)
  --only PORT            render only this tenant (repeatable)
  --root DIR             project root holding tenants/ (default: this checkout)
  --strategy S           rolling (default: new pod beside the old on the same node) | recreate (stop, then start)
  --service-type T       ClusterIP (default) | NodePort | LoadBalancer
  --storage-size Q       PersistentVolumeClaim size per tenant (default 1Gi)
  --storage-class NAME   StorageClass of the claims (default: the cluster's default)
  --listen-host H        address the process listens on in the pod (default 0.0.0.0; :: for IPv6-only clusters)`

// The distribution reference grammar, slightly simplified: [host[:port]/]path[:tag][@sha256:digest].
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const IMAGE_RE = new RegExp(
  '^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\\d+)?/)?' +
    `${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`
)
const DNS_LABEL_RE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/
const DNS_SUBDOMAIN_RE = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/
const QUANTITY_RE = /^\d+(?:\.\d+)?(?:Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/

export function parseK8sArgs (argv: string[], version: string): K8sArgs {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: 'string' },
        image: { type: 'string' },
        namespace: { type: 'string' },
        only: { type: 'string', multiple: true },
        root: { type: 'string' },
        strategy: { type: 'string' },
        'service-type': { type: 'string' },
        'storage-size': { type: 'string' },
        'storage-class': { type: 'string' },
        'listen-host': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (err) {
    // node's own messages name the flag ("Unknown option '--x'", "Option '--image <value>' argument missing").
    throw new K8sArgsError(`${(err as Error).message.split('. ')[0]}\n${USAGE}`)
  }
  const image = values.image ?? `clt-v8:${version}`
  if (!IMAGE_RE.test(image)) throw new K8sArgsError(`--image "${image}" is not an image reference (e.g. registry.example.com/clt-v8:1.0.0)`)
  if (values.namespace !== undefined && !DNS_LABEL_RE.test(values.namespace)) {
    throw new K8sArgsError(`--namespace "${values.namespace}" is not a valid namespace (lowercase letters, digits and '-', at most 63)`)
  }
  const only = (values.only ?? []).map((p) => {
    const n = Number(p)
    if (!/^\d+$/.test(p) || n < 1024 || n > 65535) throw new K8sArgsError(`--only "${p}" is not a port between 1024 and 65535`)
    return n
  })
  const strategy = values.strategy ?? 'rolling'
  if (strategy !== 'rolling' && strategy !== 'recreate') throw new K8sArgsError(`--strategy "${strategy}" must be rolling or recreate`)
  const serviceType = values['service-type'] ?? 'ClusterIP'
  if (serviceType !== 'ClusterIP' && serviceType !== 'NodePort' && serviceType !== 'LoadBalancer') {
    throw new K8sArgsError(`--service-type "${serviceType}" must be ClusterIP, NodePort or LoadBalancer`)
  }
  const storageSize = values['storage-size'] ?? '1Gi'
  if (!QUANTITY_RE.test(storageSize)) throw new K8sArgsError(`--storage-size "${storageSize}" is not a quantity (e.g. 1Gi, 500Mi)`)
  const storageClass = values['storage-class']
  if (storageClass !== undefined && !DNS_SUBDOMAIN_RE.test(storageClass)) throw new K8sArgsError(`--storage-class "${storageClass}" is not a valid StorageClass name`)
  const listenHost = (values['listen-host'] ?? '0.0.0.0').trim()
  if (listenHost === '' || /\s/.test(listenHost)) throw new K8sArgsError('--listen-host needs one address, e.g. 0.0.0.0 or ::')
  for (const [flag, v] of [['--out', values.out], ['--root', values.root]] as const) {
    if (v !== undefined && v.trim() === '') throw new K8sArgsError(`${flag} needs a folder`)
  }
  return {
    render: {
      image,
      ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
      strategy,
      serviceType,
      storageSize,
      ...(storageClass !== undefined ? { storageClass } : {}),
      listenHost,
      version,
    },
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values.root !== undefined ? { root: values.root } : {}),
    only: [...new Set(only)],
    help: values.help === true,
  }
}
