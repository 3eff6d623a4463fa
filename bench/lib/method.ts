/** The prose of BENCHMARKS.md: what each bench does and how to read it (the numbers come from bench/results). */
import { REDACT_PATHS } from '../../src/log/logger.js'

const WILDCARDS = REDACT_PATHS.filter((p) => p.includes('*')).length

export const ORDER = ['http', 'reference', 'token', 'batch', 'fleet']

export const METHOD: Record<string, string> = {
  intro: `
Every number below was produced by \`npm run bench\` (all benches, under 10 minutes) or
\`npm run bench -- <http|reference|token|batch|fleet>\`, which compiles \`bench/\` (\`tsconfig.bench.json\` →
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
### What limits the missed figures, and what would move them

The figures in the table above are from the last run; the reasons below are what the diagnostics of that run
(and the code they point at) show. None of them is a change made here: the bench only measures.

- **HTTP (\`/health\`, cache read).** A bare fastify hello-world is a very high bar: every layer a tenant adds
  is paid on each of tens of thousands of requests per second. The diagnostic servers split the gap:
  (1) the production logger alone — fastify's two lines per request, ${REDACT_PATHS.length} \`redact\` paths of which ${WILDCARDS} are
  \`*.x\` wildcards (each walks every key of every logged object), a hook running two regular expressions
  (CPF masking, secret scrubbing) over every line, and a multistream to two rotated files — costs roughly
  half the throughput; (2) \`@fastify/helmet\` calls \`helmet(options)\` again on every request, re-parsing the
  CSP, and the same headers from a middleware built once recover much of that; (3) the \`/health\` handler
  prepares \`SELECT 1\` on every call (\`databaseOk\`), hashes the V8 credentials and reads SQLite for the token
  status, and runs the batch-count query; the cache read adds the API-key check, a SQLite read and zod-based
  response serialization. What would move it, in order of size: one log line per request (fastify
  \`disableRequestLogging\` plus an \`onResponse\` line) and redact paths without wildcards (secrets are scrubbed
  by value in the hook anyway); helmet's middleware built once; statements prepared once and the token/batch
  status cached for a second in \`/health\`. Even the hello-world with the logger stays well under 0.85×, so
  the health target is out of reach while every request writes two redacted, masked lines.
- **Batch wall time ÷ ideal.** The flow finds each CPF's Kentro opportunity by fetching whole pipelines
  (\`findOpportunityByCpf\` → \`getPipeOpportunities\` per pipeline until found) and zod-checking every
  opportunity in them. With N CPFs drawn from the tenant's own pipelines that is O(N) per item and O(N²)
  per batch; the sandbox, which also rebuilds the listed population for each such call, then saturates a core.
  The small diagnostic batch shows what is left when pipelines are small. What would move it: one pipeline
  fetch per batch (or a short-lived CPF → opportunity index shared by the batch's workers), which turns the
  Kentro lookup into one call per pipeline per batch. \`V8_MAX_RPS\` is not what binds here.
- **Batch peak RSS.** V8 is given no heap limit, so under sustained work it grows the heap well past what is
  live (the HTTP bench shows the same tenant growing under plain request load, see its "peak RSS" figure);
  32 items in flight each parsing a large pipeline answer add to it. A \`--max-old-space-size\` in the PM2
  entry (\`node_args\`) and the pipeline fetch above would bound it.
- **Fleet spawn-to-ready.** Most of it is the app starting, not PM2: the fleet bench times the same process
  started directly, and module loading alone in a fresh process (undici, pino-roll with its date library,
  zod and fastify are the heaviest). Loading \`pino-pretty\` only on a terminal, bundling the code into one
  file, or Node 22's module compile cache would shorten it; PM2's cluster fork adds the rest.
- **Idle RSS.** Each tenant's RSS counts the Node binary and shared libraries in full (PSS, the real cost of
  one more tenant, is about half of it); the highest value depends on when V8 gets round to shrinking each
  process's start-up heap.
`,
  http: `
- **Baseline** (\`bench/servers/bare-fastify.ts\`): fastify 5 hello-world (\`GET /\` → \`{"hello":"world"}\`) in its
  own process, fastify's default request logging (two info lines per request) through pino to a file with the
  same writer settings as the tenant's files (asynchronous SonicBoom, minLength 0). No helmet, no auth, no DB.
- **Tenant**: \`node bin/clt-v8-api.js --port P --root <tmp>\`, exactly as PM2 runs it, config written by the real
  \`tenant add --sandbox --sandbox-url …\` code (\`addTenant\`) plus \`RATE_LIMIT_PER_MINUTE=0\` (the default 600/min
  per client would turn a load test into a 429 test) and \`V8_MAX_RPS=1000\`; \`LOG_LEVEL=info\`, \`LOG_TARGET=files\`:
  rotated \`logs/out-P.log\` + \`logs/error-P.log\` through the production logger (redact paths, CPF masking and
  secret scrubbing on every line). Helmet headers, API-key check on authenticated routes, SQLite in WAL mode.
- \`GET /cache/simulacao/:cpf\` reads a row seeded first through \`POST /cache/simulacao/salvar\`;
  \`POST /clt/simular-cache\` runs against the sandbox (\`node bin/clt-v8-sandbox.js\`, its own process, log level
  warn, consult delay 0) for a CPF whose flow (\`POST /clt/fluxo-completo\`) was run to success first.
- **Diagnostics** (\`bench/servers/layers.ts\`): the hello-world with the tenant's production logger
  (\`src/log/logger.ts\` as \`main.ts\` calls it), then + \`@fastify/helmet\` as registered in \`src/http/app.ts\`, then
  + the same helmet headers from a middleware built once. They split the gap between bare and \`/health\`.
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
  diagnostic batch of 200 CPFs (pipelines a tenth the size), which separates the batch engine's own overhead
  from the cost of the per-item Kentro lookup.
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
- Reload: one client loop per tenant requesting \`/health\` on fresh connections (like curl) while
  \`pm2 reload ecosystem.config.cjs\` replaces every process; any non-200 or connection error is a failure.
`,
}
