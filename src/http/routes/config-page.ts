/** GET /config-v8 — the config page shell and its own assets, public (every datum comes from the authenticated API). */
import path from 'node:path'
import type { FastifyPluginAsync } from 'fastify'
import { CODE_DIR } from '../../config/paths.js'
import { pageAssets, serveAssets, type Asset } from '../static-assets.js'

export interface ConfigPageOptions {
  /** Folder holding config-v8.html, config-v8.css and the config-v8/ modules (default: src/http/public under CODE_DIR). */
  publicDir?: string
}

/** URL → file and type: the shell, the stylesheets, the shared and the page's ES modules; nothing else. */
export const configPageAssets = (dir = path.join(CODE_DIR, 'src', 'http', 'public')): Asset[] =>
  pageAssets({ pageUrl: '/config-v8', assetUrl: '/config-v8', dir, name: 'config-v8' })

export const configPageRoutes: FastifyPluginAsync<ConfigPageOptions> = async (app, opts) => {
  /** GET /config-v8, /config-v8/base.css, /config-v8/app.css, /config-v8/<module>.js */
  serveAssets(app, configPageAssets(opts.publicDir), { schema: { hide: true } })
}
