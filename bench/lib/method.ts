/** The prose of BENCHMARKS.md: what each bench does and how to read it (the numbers come from bench/results). */
import { SECRET_FIELDS } from '../../src/log/redact.js'

export const ORDER = ['footprint', 'http', 'reference', 'token', 'batch', 'fleet', 'fleet100']

export const METHOD: Record<string, string> = {
  intro: `
Every number below was produced by \`npm run bench\` (all benches, about 15 minutes) or
\`npm run bench -- <footprint|http|reference|token|batch|fleet|fleet100>\`, which builds the project (\`npm run build\`:
\`dist/\` and the bundled \`dist/bundle/main.js\` a tenant runs), compiles \`bench/\` (\`tsconfig.bench.json\` →
\`dist-bench/\`), runs the benches, writes \`bench/results/<name>.json\` (machine, Node, date, command, every raw
round, medians, ratios, targets) and regenerates this file from those JSON files.

How to read them: the machine is a shared 2-core VM where other work runs at the same time, so absolute
requests per second are not comparable between runs. Each HTTP figure is therefore a **ratio to a baseline
measured in the same run**, taken round by round (targets alternate, in rotated order, within each round) and
reported as the **median over rounds**. Everything is on loopback; every process the runner starts is stopped
at the end, also on failure or Ctrl-C (each child has its own process group; PM2 runs with a private
\`PM2_HOME\` under /tmp and is killed with \`pm2 kill\`). A target that is missed is shown as **MISSED** with what
limits it; a figure whose product piece had not landed is shown as "not available yet", never estimated.
`,
  analysis: `
### What limits the figures, and what moved them

The reasons below come from the diagnostics of these runs and the code they point at. Earlier runs of this
suite (same machine) found the batch at 8× its ideal with a tenant peaking at 260 MB, and \`/health\` at 0.18×
bare; the changes they led to are listed with each item.

- **Footprint (issue 16): one tenant vs a bare fastify hello-world (no logger, the tenant's heap flags).**
  Changes made: the tenant runs from one bundled file (\`scripts/bundle.mjs\`, esbuild, whitespace and syntax
  minified but names not mangled, so no per-function call to restore them; source maps beside it) instead of ~600 modules, with Node's module compile cache
  (\`node_modules/.cache/clt-v8-compile\`, flushed once listening); Swagger (\`@fastify/swagger\`, Swagger UI,
  \`@fastify/static\`, \`yaml\`) loads on the first \`/docs\` request, in an inner instance of its own; undici loads
  on the first upstream call; the spreadsheet readers and writers (csv-parse, csv-stringify, fflate,
  read-excel-file, write-excel-file) on the first upload or export, as chunks beside the bundle; prom-client only
  when the tenant's metrics are on (a METRICS_TOKEN in its file; counts of requests, flows and refused keys are
  kept in Maps from the start either way); and \`node:http\` is loaded by require(), because an ES import of it
  reads every export and so loads Node's bundled undici. Fastify's default schema compilers (Ajv,
  fast-json-stringify) are not built, the zod compilers being given as its compiler factories; the cache route
  requires fast-json-stringify and compiles its function (a JSON Schema from zod, an Ajv instance, code
  generation) on its first answer, and the config page's
  files are checked at boot but read on their first request, through one route per folder instead of a GET and a
  HEAD per file. What is left at start is fastify itself (the baseline
  pays it too), loading SQLite's native addon, zod and the route schemas built at import, the config check, SQLite
  (opening the file, migrations check) and the logger's files; in memory, zod's and the app's code, the start-up
  heap and the bundle's source text, which Node keeps for the module. A tenant that has called an upstream also
  holds undici (more than these figures, which are read before any upstream call). The idle figure moves by
  several MB between runs with what else the 2 cores are doing (when V8 gets round to shrinking the start-up
  heap); compare it within one run.
- **HTTP (\`/health\`, cache read).** The baseline has no logger at all, so every logged route pays for its log
  line on top of its own work; the diagnostics "hello-world + fastify default request logging" and "hello-world
  + tenant logger" show what logging alone costs. The "server CPU per request" figures (user + system time of the
  serving process ÷ requests) say what each server spends, which the load generator sharing the 2 cores blurs in
  req/s. Changes made earlier: one log line per request (\`src/http/request-log.ts\`), security headers rendered
  once at start (\`src/http/security-headers.ts\`), \`/health\` silent when healthy and reading SQLite at most once
  a second, no request line built when its level drops it, \`/health\` serialized once per reading, the cache read
  serialized with fast-json-stringify compiled from its zod schema (\`src/http/fast-json.ts\`), the configured
  API key hashed once per change. Changes made for issue 16 this round: pino's \`redact\` with wildcard paths
  (\`*.password\`, \`*.token\` …) walked every line once per path; the ${SECRET_FIELDS.size} secret-named fields are now
  redacted by name in one pass over the keys (\`src/log/redact.ts\`, three levels deep, stricter than the paths it
  replaced); and lines reach sonic-boom as Buffers, because its string mode measured the whole pending string
  again on every line. What limits the cache read beyond \`/health\`: its request line (the largest part), the
  SQLite read with two JSON parses, the API-key check; \`/health\` itself pays fastify's per-request work with
  the tenant's hooks (request tracking for the draining shutdown, the per-route request counter, the security
  headers, the request logger) and a response with ~700 bytes of headers; the diagnostic "hello-world + security
  headers + /health-sized body" answers the same bytes with nothing else: its ceiling. Both goals (/health ≥
  0.85×, cache read ≥ 0.6× a logger-less hello-world) stay missed: that ceiling is itself under 0.85×, the
  diagnostics show fastify's own default logging taking the hello-world down by about half, and a tenant route
  cannot drop its request line, the key check or the security headers; what would move them further is
  sampling request lines (a loss of the per-request record operators read) or a cheaper HTTP layer than
  fastify's.
- **Fleet of 100.** Each tenant's PSS is its own heap and code; the node binary and shared libraries are split
  among the processes. Idle CPU is each tenant's timers: the batch engine looks for due work every second,
  the V8 event applier and callback delivery every 5 s, each a small SQLite query; and the PM2 daemon.
- **Batch wall time ÷ ideal.** Change made: the flow used to find each CPF's Kentro opportunity by listing whole
  pipelines per CPF (O(N²) for a batch; the sandbox saturated a core). It now keeps a per-pipeline CPF → id
  index shared by all lookups (\`src/upstream/kentro-index.ts\`): concurrent lookups share one listing, a hit is
  read fresh with \`getOpportunity\`, a miss lists again. What is left is CPU of the tenant and of the sandbox on
  the same 2 cores (each of ~16,000 upstream calls costs both a client and a server round trip) and, with 503s,
  the backoff of retried calls: idempotent reads retry after 100–200 ms holding their worker, and an item
  whose write failed is rescheduled 250–500 ms later; the ideal counts the failed calls but not these waits.
- **Batch peak RSS.** Change made: every tenant process runs with \`--max-old-space-size=192
  --max-semi-space-size=2\` (\`TENANT_NODE_ARGS\`, used by the PM2 entry, the image, the pod and this bench).
  Without them V8 sized a busy tenant's heap for a 24 GiB machine and let it grow to 190–260 MB. Then the peak
  still grew with the batch's size (163 MB for 2,000 CPFs, 119 MB for 200), from three things a /tmp harness's heap snapshots
  and heaptrack showed: each upstream call's 15 s deadline (\`AbortSignal.any\` of a timeout signal, which Node
  keeps reachable until the timer fires) outlived the call, ~9,000 of them at once; the Kentro index kept every
  listed opportunity (~4 KB each) as long as it kept the listing (up to 10 min); and better-sqlite3's 16 MB
  SQLite page cache filled with the pages of written results. Each attempt's deadline is now released when it
  ends (\`deadlineFor\` in \`src/upstream/abort.ts\`), the index keeps CPF → id between lookups, and the page
  cache is SQLite's own 2 MB. Sampled every 100 ms (a /tmp harness), the peak is now reached in the batch's
  first second; heaptrack puts it in the Node binary's mapped pages, the heap, and the memory V8's compilers use
  while the flow's code warms up (undici's WebAssembly HTTP parser among it).
- **Fleet spawn-to-ready.** Mostly the app's own start, not PM2: the fleet bench times the same process started
  directly. See the footprint item above for what start-up loads now.
- **Fleet reloads.** A stopping tenant drains (\`src/http/server.ts\`): requests on its open connections are
  answered with \`Connection: close\`, idle ones closed only after the 5 s keep-alive time it advertises. Before,
  Node's \`server.close()\` reset idle kept-alive connections under their clients' next request, and a 10-tenant
  reload under load failed requests. What remained was PM2 itself: it is the cluster master, so every new
  connection passes through its one thread, and under this load it took 10–20 s to fork each new process; with
  PM2's 15 s \`listen_timeout\` it stopped old processes before their successors listened (thousands of refused
  connections in one run). The entries now give it 60 s. The reload wall times are this saturated machine's
  (twenty client loops at full speed on 2 cores shared with other work); with a few client loops
  (\`test/fleet/reload-keepalive.test.ts\`) a tenant reloads in 2–4 s.
- **Idle RSS.** Each tenant's RSS counts the Node binary and shared libraries in full (PSS, the real cost of
  one more tenant, is about half of it); the highest value depends on when V8 gets round to shrinking each
  process's start-up heap.
`,
  footprint: `
- **Baseline** (\`bench/servers/bare-plain.ts\`): fastify 5 hello-world (\`GET /\` → \`{"hello":"world"}\`), no logger,
  started with the tenant's heap flags (\`TENANT_NODE_ARGS\`). **Tenant**: \`node <TENANT_NODE_ARGS> bin/clt-v8-api.js
  --port P --root <tmp>\` with the config written by the real \`tenant add\` (no upstream configured, file logging).
- Each round spawns both, one after the other (alternating which goes first, never overlapping), and polls each on
  fresh connections every 5 ms: spawn → first 200 (\`GET /\` for bare, \`GET /health\` for the tenant; the same
  polling cost for both). Then both stay untouched and VmRSS and PSS of each are read 8 s after its first 200.
  5 rounds; each figure is the median of the per-round ratios or differences. The compile cache is warm from the
  second start on (it is flushed once listening), as it is for every start after a tenant's first.
`,
  fleet100: `
- 100 tenants made with the real \`addTenant\` (no upstream configured), \`ecosystem.config.cjs\` from the real
  \`writeEcosystem\`, a private PM2 daemon (\`PM2_HOME=/tmp/p2b-…\`, \`pm2 kill\` at the end); \`pm2 start
  ecosystem.config.cjs\` starts all of them at once; every port's \`/health\` is polled on fresh connections until
  each answered 200.
- 20 s after the last one answered, CPU time (utime + stime from \`/proc/<pid>/stat\`) of every tenant and of the
  daemon is read at the start and end of a 20 s window with no requests: idle CPU = their sum ÷ the window, as a
  percentage of one core. PSS from \`/proc/<pid>/smaps_rollup\` of each tenant and of the daemon, summed.
  Health is checked again after the window.
`,
  http: `
- **Baseline** (\`bench/servers/bare-plain.ts\`): fastify 5 hello-world (\`GET /\` → \`{"hello":"world"}\`) in its
  own process, no logger, under the tenant's heap flags. Diagnostic: the same with fastify's default request logging
  (two info lines per request) through pino to a file (\`bench/servers/bare-fastify.ts\`). No helmet, no auth, no DB.
- **Tenant**: \`node <TENANT_NODE_ARGS> bin/clt-v8-api.js --port P --root <tmp>\`, exactly as PM2 runs it, config written by the real
  \`tenant add --sandbox --sandbox-url …\` code (\`addTenant\`) plus \`RATE_LIMIT_PER_MINUTE=0\` (the default 600/min
  per client would turn a load test into a 429 test) and \`V8_MAX_RPS=1000\`; \`LOG_LEVEL=info\`, \`LOG_TARGET=files\`:
  rotated \`logs/out-P.log\` + \`logs/error-P.log\` through the production logger (redact paths, CPF masking and
  secret scrubbing on every line). Helmet headers, API-key check on authenticated routes, SQLite in WAL mode.
- \`GET /cache/simulacao/:cpf\` reads a row seeded first through \`POST /cache/simulacao/salvar\`;
  \`POST /clt/simular-cache\` runs against the sandbox (\`node bin/clt-v8-sandbox.js\`, its own process, log level
  warn, consult delay 0) for a CPF whose flow (\`POST /clt/fluxo-completo\`) was run to success first.
- **Diagnostics** (\`bench/servers/layers.ts\`): the hello-world with the tenant's production logger and request
  line (\`src/log/logger.ts\` as \`main.ts\` calls it, \`src/http/request-log.ts\`), then + the tenant's security
  headers (\`src/http/security-headers.ts\`); and, with no logger, the security headers with a body padded to the
  size of the tenant's \`/health\` answer (read from the tenant in the same run): the ceiling of a route that
  logs nothing. They split the gap between bare and the tenant's routes.
- Load: autocannon from the runner process, 10 connections, no pipelining; 1 s warm-up per target, then 5
  rounds × 3 s. Only 2xx responses count towards req/s; non-2xx and errors are reported.
`,
  reference: `
- **Older design** (\`bench/servers/reference-express.ts\`): what the system this replaces did per port: Express 4,
  one console-style line per request appended to a log file (what PM2 captured from its stdout), \`GET /health\`
  from memory, and \`GET /cache/simulacao/:cpf\` reading and parsing the whole \`cache-simulacoes.json\` from disk on
  every request (300 simulations, as the older \`cache-simulacoes.js\` kept them). No API key.
- **clt-v8**: a tenant process as in the HTTP bench (same config), the row read being one of the same 300 CPFs.
- Same load settings and rotation as the HTTP bench, with its own bare-fastify baseline in the same run.
`,
  token: `
- In-process, through the real wiring (\`createServices\`: undici \`HttpClient\`, \`TokenCache\`, \`V8Client\`) on a SQLite
  file, against the sandbox running as its own process. Tokens issued are read from the sandbox's
  \`/__sandbox/stats\` before and after.
- Cold: nothing in memory or on disk, 200 concurrent \`TokenCache.get()\`; then, after \`invalidateAll()\`, 200
  concurrent V8 API calls (\`GET /private-consignment/operation\`), each of which needs a token.
- Cached lookup: 200,000 sequential awaited \`get()\` calls timed one by one with \`performance.now()\`; the same
  loop around an already-resolved promise is shown as the floor of any async call.
- Restart: (a) close the services and the database, open the same file again with a new cache; (b) a brand-new
  process (\`bench/servers/token-probe.ts\`) on the same file. Each makes 200 concurrent requests.
`,
  batch: `
- Each run gets a fresh sandbox process (consult delay 0, every upstream call delayed by L through
  \`POST /__sandbox/faults {latency_ms: L}\`) and a fresh tenant process (\`BATCH_CONCURRENCY=C\`, \`V8_MAX_RPS=1000\`,
  \`RATE_LIMIT_PER_MINUTE=0\`), so no consult, cache or pipeline state carries over between runs.
- \`POST /clt/lotes {cpfs}\` with N CPFs of the sandbox's \`ok\` scenario, then \`GET /clt/lotes/:id\` every second until
  COMPLETED. Wall time is the batch's own \`started_at → finished_at\`. A run still going after the cap is
  cancelled (\`POST /clt/lotes/:id/cancelar\`) and marked NOT FINISHED; its ratio is then taken over the time and
  the calls served up to the cap (same formula), so the suite stays bounded and nothing is extrapolated.
- Ideal = (upstream calls × L) ÷ C, upstream calls being every call the sandbox served for that batch
  (\`/__sandbox/stats\`, all routes, retries included) — for a finished batch that is the brief's
  calls-per-item × L × N ÷ C. The ratio exposes everything that is not waiting for the upstream at full
  concurrency: the flow's own waits, retry backoff, CPU of the tenant and of the sandbox (both on the same 2 cores).
- CPU used by the tenant and the sandbox during the run is read from \`/proc/<pid>/stat\`; the size of the Kentro
  pipelines the flow searches is probed once per run (the three pipelines fetched whole, as the tenant does).
- Peak RSS: the tenant process's VmHWM from \`/proc/<pid>/status\`, sampled every 250 ms.
- Runs: N CPFs clean; N other CPFs with 5% of upstream calls answered 503 (after the latency); and a
  diagnostic batch of 200 CPFs (pipelines a tenth the size), which shows the batch engine's own overhead on a
  small batch (start-up and tail dominate).
`,
  fleet: `
- K tenants created with the real \`addTenant\`, \`ecosystem.config.cjs\` generated by the real \`writeEcosystem\`,
  a private PM2 daemon (\`PM2_HOME=/tmp/p2b-…\`, started with \`pm2 ping\` before timing, \`pm2 kill\` at the end).
- Spawn-to-ready: each tenant started alone with \`pm2 start ecosystem.config.cjs --only clt-v8-api-P\` while
  \`/health\` is polled every 5 ms on fresh connections; the figure is first 200 minus PM2's own \`pm_uptime\`
  stamp (set when the daemon forks the process). The same app started directly (\`node bin/clt-v8-api.js\`,
  3 times) separates PM2's share from the app's.
- Idle RSS: VmRSS of each tenant process 25 s after the last start, also read at 10 s and right after its first
  200 (V8 shrinks each process's start-up heap after some quiet seconds, not all at the same moment); PSS from
  \`/proc/<pid>/smaps_rollup\` beside it. PM2 daemon: VmRSS of the pid in \`PM2_HOME/pm2.pid\`.
- Reloads under load: per tenant, one client loop on fresh connections (like curl) and one on kept-alive
  connections (Node's \`http.Agent({ keepAlive: true })\`, as fetch, axios or Python's \`requests.Session\` reuse
  connections), both requesting \`/health\` as fast as they are answered with a 5 s client timeout; any non-200,
  connection error or timeout is a failure, counted per kind of client. Two reloads in a row: the rolling
  \`npm run tenant:reload\` (\`node scripts/tenant.js reload\`: one tenant at a time, the new process healthy before
  the next) and a plain \`pm2 reload ecosystem.config.cjs\` (PM2 replaces two processes at a time). A stopping
  tenant drains: a request on a kept-alive connection is answered with \`Connection: close\`, idle connections
  are closed only after the advertised keep-alive time (5 s), so no request is reset
  (\`src/http/server.ts\`, timings in \`src/config/lifecycle.ts\`).
`,
}
