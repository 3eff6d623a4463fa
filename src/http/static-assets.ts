/**
 * The files of a browser page (the tenant's /config-v8, the fleet console's /): a fixed list of URL → file, served
 * with an ETag. Nothing else of a folder is reachable. Both pages also serve the files of
 * src/http/public/shared (base.css and ES modules) under their own asset URL, so each page reaches them at a
 * sibling path on its own origin: the strict CSP ('self') allows them and no new URL space is opened.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify'
import { CODE_DIR } from '../config/paths.js'

/** The files both pages use: base.css and the modules in it. */
export const SHARED_PUBLIC_DIR = path.join(CODE_DIR, 'src', 'http', 'public', 'shared')

export interface PageFiles {
  /** URL of the page's HTML shell, e.g. '/config-v8' or '/'. */
  pageUrl: string
  /** URL folder of its assets, e.g. '/config-v8' or '/console'. */
  assetUrl: string
  /** Folder holding `<name>.html`, `<name>.css` and `<name>/` (the page's ES modules). */
  dir: string
  name: string
  /** Folder of the shared files (default SHARED_PUBLIC_DIR). */
  sharedDir?: string
}

export type Asset = [url: string, file: string, type: string]

const HTML = 'text/html; charset=utf-8'
const CSS = 'text/css; charset=utf-8'
const JS = 'text/javascript; charset=utf-8'

/** The ES modules of a folder: lower-case names ending in .js, nothing else. */
const modulesOf = (dir: string): string[] => fs.readdirSync(dir).filter((f) => /^[a-z][a-z0-9-]*\.js$/.test(f)).sort()

/** URL → absolute file and type for one page: its shell, base.css, its app.css, the shared and its own modules. */
export function pageAssets (page: PageFiles): Asset[] {
  const shared = page.sharedDir ?? SHARED_PUBLIC_DIR
  const own = path.join(page.dir, page.name)
  const assets: Asset[] = [
    [page.pageUrl, path.join(page.dir, `${page.name}.html`), HTML],
    [`${page.assetUrl}/base.css`, path.join(shared, 'base.css'), CSS],
    [`${page.assetUrl}/app.css`, path.join(page.dir, `${page.name}.css`), CSS],
    ...modulesOf(shared).map((m): Asset => [`${page.assetUrl}/${m}`, path.join(shared, m), JS]),
    ...modulesOf(own).map((m): Asset => [`${page.assetUrl}/${m}`, path.join(own, m), JS]),
  ]
  const seen = new Set<string>()
  for (const [url, file] of assets) {
    // A page module named like a shared one would hide it for that page only: refuse to start instead.
    if (seen.has(url)) throw new Error(`${file}: ${url} is already a shared file; rename the page's module`)
    seen.add(url)
  }
  return assets
}

/**
 * GET (and HEAD) for each asset: every file must be readable at boot (a missing file fails the boot, not a
 * visitor's request), and is read and hashed on its first request, then kept. Files under one URL folder share one
 * `<folder>/:file` route that answers only the listed names (404 otherwise): a page's dozen modules cost the router
 * one route, not a dozen, at every start.
 */
export function serveAssets (app: FastifyInstance, assets: Asset[], routeOptions: RouteShorthandOptions = {}): void {
  const loaded = new Map<string, { body: Buffer; etag: string }>()
  const load = (file: string): { body: Buffer; etag: string } => {
    let hit = loaded.get(file)
    if (!hit) {
      const body = fs.readFileSync(file)
      hit = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }
      loaded.set(file, hit)
    }
    return hit
  }
  const folders = new Map<string, Map<string, Asset>>()
  for (const asset of assets) {
    const [url, file] = asset
    fs.accessSync(file, fs.constants.R_OK)
    const slash = url.lastIndexOf('/')
    if (slash <= 0) {
      app.get(url, routeOptions, async (req, reply) => send(asset, req, reply))
      continue
    }
    const folder = folders.get(url.slice(0, slash)) ?? new Map<string, Asset>()
    folders.set(url.slice(0, slash), folder.set(url.slice(slash + 1), asset))
  }
  for (const [folder, files] of folders) {
    app.get<{ Params: { file: string } }>(`${folder}/:file`, routeOptions, async (req, reply) => {
      const asset = files.get(req.params.file)
      if (!asset) return reply.callNotFound()
      return send(asset, req, reply)
    })
  }

  function send ([, file, type]: Asset, req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const { body, etag } = load(file)
    reply.header('cache-control', 'no-cache').header('etag', etag)
    if (req.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.type(type).send(body)
  }
}
