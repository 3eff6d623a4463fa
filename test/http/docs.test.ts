import t from 'tap'
import { build } from '../fixtures/app.js'

t.test('GET /docs/json documents every API route with its zod schema', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200, 'public: 200 without a key')
  const doc = res.json()
  t.match(doc.openapi, /^3\./, 'an OpenAPI 3 document')
  t.ok(doc.components.securitySchemes.apiKey, 'declares the bearer API key')
  t.same(doc.security, [{ apiKey: [] }], 'every operation needs the key by default')
  const paths = doc.paths as Record<string, Record<string, any>>
  for (const [path, method] of [
    ['/config/v8/atual', 'get'],
    ['/config/v8/salvar', 'post'],
    ['/config/v8/testar', 'post'],
    ['/config/tenant', 'get'],
    ['/config/integracoes/salvar', 'post'],
    ['/cache/simulacao/salvar', 'post'],
    ['/cache/simulacao/{cpf}', 'get'],
    ['/cache/simulacao/{cpf}', 'delete'],
    ['/cache/simulacoes', 'get'],
  ] as const) {
    t.ok(paths[path]?.[method], `${method.toUpperCase()} ${path} documented`)
  }
  const salvar = paths['/config/v8/salvar']!['post']
  const schema = salvar.requestBody.content['application/json'].schema
  t.same(Object.keys(schema.properties).sort(), ['password', 'username'], 'salvar body fields come from the zod schema')
  t.same(schema.required.sort(), ['password', 'username'], 'required fields')
  t.ok(salvar.responses['200'], 'response documented')
  const list = paths['/cache/simulacoes']!['get']
  t.same(list.parameters.map((p: { name: string }) => p.name).sort(), ['limit', 'page'], 'query parameters documented')
  const untagged = Object.entries(paths).flatMap(([p, ops]) => Object.entries(ops).filter(([, op]) => !op.tags?.length || !op.summary).map(([m]) => `${m.toUpperCase()} ${p}`))
  t.same(untagged, [], 'every operation has a tag and a summary (grouped in the UI)')
  t.ok(paths['/clt/lotes']?.['post'] && paths['/clt/lotes/{id}/eventos']?.['get'], 'batch routes documented')
  t.notOk(paths['/config-v8'], 'the page shell is not an API operation')
  t.notOk(paths['/docs/json'], 'the docs routes are not listed')
  t.notOk(res.body.includes('test-api-key'), 'no secret in the document')
})

t.test('GET /docs serves Swagger UI from its own files under the strict CSP', async (t) => {
  const { app } = await build(t)
  const index = await app.inject({ method: 'GET', url: '/docs' })
  const page = index.statusCode === 302 ? await app.inject({ method: 'GET', url: index.headers.location as string }) : index
  t.equal(page.statusCode, 200, 'UI page served')
  t.match(page.body, /swagger-ui/, 'Swagger UI markup')
  t.notMatch(page.body, /<script>(?!\s*<\/script>)|<style>|https?:\/\/(?!127)/, 'no inline script/style and no external asset')
  const csp = String(page.headers['content-security-policy'])
  t.match(csp, /script-src 'self'/, 'strict script-src kept')
  t.notMatch(csp, /unsafe-inline/, 'no unsafe-inline')
  t.match(csp, /style-src 'self' 'sha256-[A-Za-z0-9+/=]+'/, "Swagger UI's one injected stylesheet allowed by its hash only")
  const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
  t.equal(init.statusCode, 200, 'initializer served')
  t.match(init.body, /\/docs\/json|\.\/json/, 'the UI loads the document from /docs/json')
})
