/** Process timing shared by the entrypoint and the generated PM2 entries. */

/**
 * How long the server keeps an idle kept-alive connection, advertised to clients as `Keep-Alive: timeout=5`.
 * Clients that honour the hint drop an idle connection before that (Node's http.Agent 1 s early, undici and
 * fetch 2 s early), so the server never closes a connection a request is being written on, neither in normal
 * operation nor while draining; and it is short enough that a stopping process waits out every idle connection
 * (5 s + Node's 1 s keepAliveTimeoutBuffer) well inside its grace. fastify's default (72 s, sized for AWS load
 * balancers' 60 s) would keep a stopping process waiting 73 s, or force it to cut connections under clients.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000

/**
 * How long a stopping process answers requests on connections it already has before cutting what is left.
 * Idle connections are closed by 6 s; the rest is for requests already running, sized for the longest the
 * service answers by design: POST /clt/fluxo-completo waits up to FLOW_WAIT_SECONDS (20 s by default) for V8.
 */
export const DRAIN_DEADLINE_MS = 25_000

/** How long a tenant may take to shut down: the drain, then releasing batch leases, closing the database, flushing logs. */
export const SHUTDOWN_GRACE_MS = DRAIN_DEADLINE_MS + 5_000

/**
 * Node flags of every tenant process: the PM2 entry, the container command, the Kubernetes pod and the bench.
 * Without them V8 sizes a busy tenant's heap for a big machine: a 2,000-CPF batch grew it to 190–260 MB RSS while
 * the live data stays small. A 2 MB young generation and a 192 MB old-generation bound keep it near 130–145 MB
 * (BENCHMARKS.md, batch) at no measurable throughput cost; the bound stays under PM2's 300 MB restart guard
 * and the pod's 256 Mi limit with room for a large Kentro pipeline listing.
 */
export const TENANT_NODE_ARGS: readonly string[] = ['--max-old-space-size=192', '--max-semi-space-size=2']
