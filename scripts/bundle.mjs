/**
 * `npm run build`'s second step: the tenant process (dist/main.js and every package it imports at start) as one
 * minified ES module, dist/bundle/main.js, with its source map beside it. One file instead of ~600 modules spares each
 * tenant start the module resolution and most of the compile work (BENCHMARKS.md, footprint). What is loaded only when
 * used (undici on the first upstream call) becomes its own chunk. Left outside: the native addon (better-sqlite3),
 * packages that read their own files at run time (Swagger UI and @fastify/swagger, loaded on the first /docs
 * request), pino-pretty (terminal runs only) and fast-json-stringify, which the cache read requires on its first
 * answer (src/http/fast-json.ts: a synchronous serializer cannot wait for a chunk).
 */
import fs from 'node:fs'
import { build } from 'esbuild'

// Chunk names carry a content hash: start clean so no stale chunk stays beside the new ones.
fs.rmSync('dist/bundle', { recursive: true, force: true })

await build({
  entryPoints: ['dist/main.js'],
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // Whitespace and syntax minified, names not: functions and classes keep their own names in stack traces and in
  // logged errors' `type` natively. (esbuild's keepNames, with mangled names, wraps every function and class in a
  // call that sets its name back: thousands of calls at each start, and for each closure made per request.) The
  // .map beside each file maps lines back to src/.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  external: ['better-sqlite3', '@fastify/swagger', '@fastify/swagger-ui', 'pino-pretty'],
  // CommonJS packages inside an ES module still call require() for Node's own modules.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  logLevel: 'warning',
})
