import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { CODE_DIR } from '../../src/config/paths.js'
import { configPageAssets } from '../../src/http/routes/config-page.js'
import { build } from '../fixtures/app.js'

const PUBLIC = path.join(CODE_DIR, 'src', 'http', 'public')

t.test('GET /config-v8 serves the shell, its stylesheet and its modules, public, under the strict CSP', async (t) => {
  const { app } = await build(t, { config: { V8_USERNAME: 'op@empresa.com.br', V8_PASSWORD: 'segredo-da-v8' } })
  for (const [url, type, marker] of [
    ['/config-v8', /^text\/html; charset=utf-8/, /<script type="module" src="config-v8\/main.js"><\/script>/],
    ['/config-v8/main.js', /^text\/javascript/, /from '\.\/session\.js'/],
    ['/config-v8/api.js', /^text\/javascript/, /keyStore\(KEY_STORAGE\)/],
    ['/config-v8/app.css', /^text\/css/, /\.card-head/],
    ['/config-v8/base.css', /^text\/css/, /--brand:/],
    ['/config-v8/api-core.js', /^text\/javascript/, /export function keyStore/],
    ['/config-v8/page-frame.js', /^text\/javascript/, /export function renderFrame/],
  ] as const) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200, `${url} served without a key`)
    t.match(String(res.headers['content-type']), type, `${url} content type`)
    t.match(res.body, marker, `${url} is the right file`)
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${url} nosniff`)
    t.notOk(res.body.includes('segredo-da-v8') || res.body.includes('op@empresa') || res.body.includes('test-api-key'), `${url} holds no tenant data`)
    const again = await app.inject({ method: 'GET', url, headers: { 'if-none-match': String(res.headers.etag) } })
    t.equal(again.statusCode, 304, `${url} revalidates by ETag`)
  }
  const page = await app.inject({ method: 'GET', url: '/config-v8' })
  const csp = String(page.headers['content-security-policy'])
  for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]) {
    t.ok(csp.includes(d), `CSP has ${d}`)
  }
  t.notMatch(csp, /unsafe-inline|unsafe-eval/, 'no unsafe-* in the page CSP')
  const head = await app.inject({ method: 'HEAD', url: '/config-v8' })
  t.equal(head.statusCode, 200, 'HEAD works')
})

t.test('nothing else is served from the public folder', async (t) => {
  const { app } = await build(t)
  for (const url of ['/config-v8/config-v8.js', '/config-v8/app.js', '/config-v8/config-v8/main.js', '/config-v8/MAIN.js', '/config-v8/../package.json', '/config-v8/%2e%2e/package.json', '/config-v8.html', '/public/config-v8.js', '/config-v8/', '/config-v8/shared/base.css', '/shared/base.css', '/config-v8/base.css/', '/config-v8/../shared/api-core.js']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 404, `${url} → 404`)
    t.equal(res.json().success, false, `${url}: JSON error`)
  }
})

t.test('the page: no inline script or style, no external asset, no HTML built from data', async (t) => {
  const html = fs.readFileSync(path.join(PUBLIC, 'config-v8.html'), 'utf8')
  const assets = configPageAssets(PUBLIC)
  const modules = assets.filter(([url]) => url.endsWith('.js'))
  t.ok(modules.length >= 5, `the page is split by concern into modules (${modules.map(([u]) => u).join(', ')})`)
  const js = modules.map(([, file]) => fs.readFileSync(file, 'utf8')).join('\n')
  const served = new Set(assets.map(([url]) => url))
  for (const [url, file] of modules) {
    const text = fs.readFileSync(file, 'utf8')
    t.match(text, /^\/\/ @ts-check\n/, `${url} is type-checked`)
    for (const [, spec] of text.matchAll(/from '([^']+)'/g)) {
      t.match(spec, /^\.\/[a-z-]+\.js$/, `${url} imports only sibling modules (${spec})`)
      t.ok(served.has(`/config-v8/${spec?.slice(2)}`), `${url}: ${spec} is served beside it`)
    }
  }
  const css = assets.filter(([url]) => url.endsWith('.css')).map(([, file]) => fs.readFileSync(file, 'utf8')).join('\n')
  t.notMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'no inline <script>')
  t.match(html, /<script type="module" src="config-v8\/main\.js">/, 'one module entry point')
  t.notMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or event-handler attribute')
  t.notMatch(html, /(src|href|action)=["']?(https?:)?\/\//i, 'no external asset in the HTML')
  t.notMatch(css, /@import|url\(/i, 'no imported or remote resource in the CSS')
  const code = js.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  t.notMatch(code, /https?:\/\//, 'the script calls only relative URLs of this tenant')
  t.notMatch(code, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/, 'no HTML sinks or eval in the script')
  t.notMatch(code, /localStorage|document\.cookie/, 'the key is never put in localStorage or a cookie')
  t.match(js, /sessionStorage/, 'the key is kept in sessionStorage')
  t.match(html, /<html lang="pt-BR">/, 'Portuguese page')
})
