/** GET /config-v8 — the config page shell and its own assets, public (every datum comes from the authenticated API). */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { FastifyPluginAsync } from 'fastify'
import { CODE_DIR } from '../../config/paths.js'

export interface ConfigPageOptions {
  /** Folder holding config-v8.html, config-v8.css and the config-v8/ modules (default: src/http/public under CODE_DIR). */
  publicDir?: string
}

/** URL → file and type: the shell, its stylesheet, and the page's ES modules; nothing else from the folder. */
export function pageAssets (dir: string): Array<[url: string, file: string, type: string]> {
  const modules = fs.readdirSync(path.join(dir, 'config-v8')).filter((f) => /^[a-z][a-z0-9-]*\.js$/.test(f)).sort()
  return [
    ['/config-v8', 'config-v8.html', 'text/html; charset=utf-8'],
    ['/config-v8/app.css', 'config-v8.css', 'text/css; charset=utf-8'],
    ...modules.map((m): [string, string, string] => [`/config-v8/${m}`, path.join('config-v8', m), 'text/javascript; charset=utf-8']),
  ]
}

export const configPageRoutes: FastifyPluginAsync<ConfigPageOptions> = async (app, opts) => {
  const dir = opts.publicDir ?? path.join(CODE_DIR, 'src', 'http', 'public')
  for (const [url, file, type] of pageAssets(dir)) {
    // Read once at start: a missing file fails the boot, not a visitor's request.
    const body = fs.readFileSync(path.join(dir, file))
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
    /** GET /config-v8, /config-v8/app.css, /config-v8/<module>.js */
    app.get(url, { schema: { hide: true } }, async (req, reply) => {
      reply.header('cache-control', 'no-cache').header('etag', etag)
      if (req.headers['if-none-match'] === etag) return reply.code(304).send()
      return reply.type(type).send(body)
    })
  }
}
