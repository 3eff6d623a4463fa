/** pageAssets/serveAssets: a page's fixed file list with the shared files beside its own, and a clash refused. */
import fs from 'node:fs'
import path from 'node:path'
import Fastify from 'fastify'
import t from 'tap'
import { pageAssets, serveAssets, SHARED_PUBLIC_DIR } from '../../src/http/static-assets.js'
import { tempRoot } from '../fixtures/config.js'

/** A page folder (page.html, page.css, page/<modules>) and a shared folder (base.css, <modules>). */
function folders (t: { teardown(fn: () => void): void }, pageModules: string[], sharedModules: string[]): { dir: string; sharedDir: string } {
  const root = tempRoot(t, 'cltv8-assets-')
  const dir = path.join(root, 'pub')
  const sharedDir = path.join(root, 'shared')
  fs.mkdirSync(path.join(dir, 'page'), { recursive: true })
  fs.mkdirSync(sharedDir)
  fs.writeFileSync(path.join(dir, 'page.html'), '<!doctype html>')
  fs.writeFileSync(path.join(dir, 'page.css'), '.own {}')
  fs.writeFileSync(path.join(sharedDir, 'base.css'), ':root {}')
  for (const m of pageModules) fs.writeFileSync(path.join(dir, 'page', m), `// page ${m}\n`)
  for (const m of sharedModules) fs.writeFileSync(path.join(sharedDir, m), `// shared ${m}\n`)
  return { dir, sharedDir }
}

t.test('a page: its shell, base.css, app.css, the shared and its own modules under its asset URL; nothing else', async (t) => {
  const { dir, sharedDir } = folders(t, ['main.js', 'api.js', 'Bad.js', 'notes.txt'], ['core.js', '.hidden.js'])
  fs.writeFileSync(path.join(sharedDir, 'secret.env'), 'API_KEY=x')
  const assets = pageAssets({ pageUrl: '/p', assetUrl: '/p', dir, name: 'page', sharedDir })
  t.same(assets.map(([url, file]) => [url, path.relative(path.dirname(dir), file)]), [
    ['/p', 'pub/page.html'],
    ['/p/base.css', 'shared/base.css'],
    ['/p/app.css', 'pub/page.css'],
    ['/p/core.js', 'shared/core.js'],
    ['/p/api.js', 'pub/page/api.js'],
    ['/p/main.js', 'pub/page/main.js'],
  ], 'only lower-case .js modules, and the fixed files')

  const app = Fastify()
  t.teardown(() => app.close())
  serveAssets(app, assets)
  const core = await app.inject({ method: 'GET', url: '/p/core.js' })
  t.equal(core.body, '// shared core.js\n', 'a shared module, at a sibling URL of the page\'s own')
  t.match(String(core.headers['content-type']), /^text\/javascript/, 'as JavaScript')
  t.equal((await app.inject({ method: 'GET', url: '/p/core.js', headers: { 'if-none-match': String(core.headers['etag']) } })).statusCode, 304, 'revalidated by ETag')
  for (const url of ['/p/secret.env', '/p/.hidden.js', '/p/Bad.js', '/p/notes.txt', '/shared/core.js', '/p/shared/core.js', '/p/page/main.js']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 404, `${url} → 404`)
  }
})

t.test('a listed file that cannot be read fails the boot, not the first visitor; a readable one is read when asked', async (t) => {
  const { dir, sharedDir } = folders(t, ['main.js'], ['core.js'])
  const assets = pageAssets({ pageUrl: '/p', assetUrl: '/p', dir, name: 'page', sharedDir })
  fs.rmSync(path.join(sharedDir, 'core.js'))
  const app = Fastify()
  t.teardown(() => app.close())
  t.throws(() => serveAssets(app, assets), { code: 'ENOENT' }, 'the missing module is named at boot')

  const { dir: dir2, sharedDir: shared2 } = folders(t, ['main.js'], ['core.js'])
  const app2 = Fastify()
  t.teardown(() => app2.close())
  serveAssets(app2, pageAssets({ pageUrl: '/p', assetUrl: '/p', dir: dir2, name: 'page', sharedDir: shared2 }))
  fs.writeFileSync(path.join(dir2, 'page', 'main.js'), '// edited before the first request\n')
  t.equal((await app2.inject({ method: 'GET', url: '/p/main.js' })).body, '// edited before the first request\n', 'read on its first request')
  t.equal((await app2.inject({ method: 'HEAD', url: '/p/main.js' })).statusCode, 200, 'HEAD answers too')
  t.equal((await app2.inject({ method: 'GET', url: '/p/' })).statusCode, 404, 'the bare folder is not a file')
})

t.test('a page module named like a shared one is refused at start (it would hide the shared one)', async (t) => {
  const { dir, sharedDir } = folders(t, ['main.js', 'core.js'], ['core.js'])
  t.throws(() => pageAssets({ pageUrl: '/p', assetUrl: '/p', dir, name: 'page', sharedDir }), /\/p\/core\.js is already a shared file/, 'the clash is named')
})

t.test('the real shared folder: base.css and type-checked modules that import only shared siblings', async (t) => {
  const files = fs.readdirSync(SHARED_PUBLIC_DIR)
  t.ok(files.includes('base.css'), 'base.css')
  for (const f of files.filter((n) => n.endsWith('.js'))) {
    const text = fs.readFileSync(path.join(SHARED_PUBLIC_DIR, f), 'utf8')
    t.match(text, /^\/\/ @ts-check\n/, `${f} is type-checked`)
    for (const [, spec] of text.matchAll(/from '([^']+)'/g)) {
      t.ok(files.includes(spec?.replace(/^\.\//, '') ?? ''), `${f}: a shared module imports only shared modules (${spec})`)
    }
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
    t.notMatch(code, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|localStorage|document\.cookie/, `${f}: no HTML sink, eval, localStorage or cookie`)
  }
})
