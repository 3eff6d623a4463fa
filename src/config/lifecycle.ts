/** Process timing shared by the entrypoint and the generated PM2 entries. */

/** How long a tenant may take to shut down (finish requests, release batch leases, flush logs). */
export const SHUTDOWN_GRACE_MS = 8000

/**
 * Node flags of every tenant process: the PM2 entry, the container command, the Kubernetes pod and the bench.
 * Without them V8 sizes a busy tenant's heap for a big machine: a 2,000-CPF batch grew it to 190–260 MB RSS while
 * the live data stays small. A 2 MB young generation and a 192 MB old-generation bound keep it near 125–130 MB
 * (BENCHMARKS.md, batch) at no measurable throughput cost; the bound stays under PM2's 300 MB restart guard
 * and the pod's 256 Mi limit with room for a large Kentro pipeline listing.
 */
export const TENANT_NODE_ARGS: readonly string[] = ['--max-old-space-size=192', '--max-semi-space-size=2']
