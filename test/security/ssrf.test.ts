/**
 * Finding 4 (SSRF), against a real tenant: the API cannot point an upstream at loopback, private, link-local or
 * plain-http addresses in any spelling; a tenant file that does refuses to load; a public-looking name that resolves
 * to a private address is refused at connect time (the Kentro key never leaves); a foreign error body is not echoed.
 */
import { spawn } from 'node:child_process'
import dns from 'node:dns/promises'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { classifyAddress } from '../../src/config/address-policy.js'
import { TENANT_NODE_ARGS } from '../../src/config/lifecycle.js'
import { CODE_DIR } from '../../src/config/paths.js'
import { tempRoot, writeTenantConfig } from '../fixtures/config.js'
import { freePort } from '../fixtures/net.js'
import { call, closeAgents, NEEDS_BUILD, startSecuredTenant } from '../fixtures/security.js'

t.teardown(closeAgents)

const KENTRO_KEY = 'kentro-secret-key-never-sent-4711'
const KENTRO = { KENTRO_API_KEY: KENTRO_KEY, KENTRO_QUEUE_ID: '25' }

const FORBIDDEN_URLS = [
  ['link-local metadata', 'http://169.254.169.254/latest/meta-data'],
  ['link-local over https', 'https://169.254.169.254/latest/meta-data'],
  ['loopback', 'https://127.0.0.1:9/kentro/int'],
  ['loopback, decimal', 'https://2130706433/kentro'],
  ['loopback, hex short form', 'https://0x7f.1/kentro'],
  ['loopback IPv6', 'https://[::1]/kentro'],
  ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/kentro'],
  ['localhost by name', 'https://localhost/kentro'],
  ['private 10/8', 'https://10.1.2.3/kentro'],
  ['private 192.168/16', 'https://192.168.0.10/kentro'],
  ['CGNAT', 'https://100.64.0.1/kentro'],
  ['unique local IPv6', 'https://[fd00::1]/kentro'],
  ['unspecified', 'https://0.0.0.0/kentro'],
  ['plain http to a public host', 'http://kentro.example.com/int'],
  ['credentials in the URL', 'https://user:pass@kentro.example.com/int'],
] as const

t.test('the API refuses every private, loopback, link-local or plain-http upstream URL; the file stays as it was', { skip: NEEDS_BUILD }, async (t) => {
  const tenant = await startSecuredTenant(t)
  const before = fs.readFileSync(tenant.configFile, 'utf8')
  for (const [name, url] of FORBIDDEN_URLS) {
    for (const body of [{ kentro: { api_url: url } }, { presencabank: { url } }]) {
      const res = await call(tenant, 'POST', '/config/integracoes/salvar', { json: body })
      t.equal(res.status, 400, `${name} (${Object.keys(body)[0]}): 400`)
      t.ok(['url_nao_permitida', 'requisicao_invalida'].includes(res.body.error), `${name}: refused as a URL (${res.body.error})`)
    }
  }
  t.equal(fs.readFileSync(tenant.configFile, 'utf8'), before, 'nothing was saved')
  const ok = await call(tenant, 'POST', '/config/integracoes/salvar', { json: { kentro: { api_url: 'https://cliente.atenderbem.com/int' } } })
  t.equal(ok.status, 200, 'an https URL on a public host is accepted')
})

t.test('a sandbox tenant may use loopback from its file, but its page still cannot set one', { skip: NEEDS_BUILD }, async (t) => {
  const tenant = await startSecuredTenant(t, { config: { SANDBOX: 'true', KENTRO_API_URL: 'http://127.0.0.1:7070/kentro/int', ...KENTRO } })
  const view = await call(tenant, 'GET', '/config/tenant')
  t.equal(view.body.kentro.api_url, 'http://127.0.0.1:7070/kentro/int', 'the file\'s loopback URL is in use')
  const same = await call(tenant, 'POST', '/config/integracoes/salvar', { json: { kentro: { api_url: 'http://127.0.0.1:7070/kentro/int', queue_id: '26' } } })
  t.equal(same.status, 200, 'saving the page with the URL unchanged works')
  const other = await call(tenant, 'POST', '/config/integracoes/salvar', { json: { kentro: { api_url: 'http://127.0.0.1:22/x' } } })
  t.equal(other.status, 400, 'a new loopback URL from the API is refused')
  t.equal(other.body.error, 'url_nao_permitida', 'as a URL the API may not set')
})

/** Start the bin on a config that should not load; resolve with its exit code and stderr. */
async function startRefused (t: { teardown(fn: () => unknown): void }, extra: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const root = tempRoot(t, 'cltv8-sec-')
  const port = await freePort()
  writeTenantConfig(root, port, extra)
  const child = spawn(process.execPath, [...TENANT_NODE_ARGS, path.join(CODE_DIR, 'bin', 'clt-v8-api.js'), '--port', String(port), '--root', root], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  return { code, stderr }
}

t.test('a tenant file pointing an upstream at a forbidden address does not start, and says which key', { skip: NEEDS_BUILD }, async (t) => {
  const metadata = await startRefused(t, { KENTRO_API_URL: 'http://169.254.169.254/latest', ...KENTRO })
  t.equal(metadata.code, 1, 'exit 1')
  t.match(metadata.stderr, /KENTRO_API_URL .*(link-local|private)/, 'one line naming the key and the reason')
  const sandboxLinkLocal = await startRefused(t, { SANDBOX: 'true', V8_AUTH_URL: 'http://169.254.169.254/oauth/token' })
  t.match(sandboxLinkLocal.stderr, /V8_AUTH_URL .*UPSTREAM_ALLOWLIST/, 'SANDBOX=true allows loopback only, never link-local')
  const loopback = await startRefused(t, { PRESENCABANK_URL: 'http://127.0.0.1:9/presenca' })
  t.match(loopback.stderr, /PRESENCABANK_URL .*loopback/, 'loopback needs SANDBOX=true')
  const badList = await startRefused(t, { UPSTREAM_ALLOWLIST: '10.0.0.0/99' })
  t.match(badList.stderr, /UPSTREAM_ALLOWLIST .*CIDR/, 'a malformed allowlist entry is named')
})

t.test('a public-looking name resolving to a private address is refused at connect time; the Kentro key never leaves', { skip: NEEDS_BUILD }, async (t) => {
  // This machine's own name resolves through /etc/hosts to a loopback or private address; it passes the URL check.
  const name = os.hostname().toLowerCase()
  const addresses = await dns.lookup(name, { all: true }).catch(() => [])
  if (addresses.length === 0 || addresses.every((a) => classifyAddress(a.address) === 'public') || name === 'localhost') {
    t.pass(`skipped: ${name} does not resolve to a non-public address here`)
    return
  }
  let connections = 0
  const trap = net.createServer((socket) => {
    connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => trap.listen(0, '0.0.0.0', resolve))
  t.teardown(() => new Promise<void>((resolve) => trap.close(() => resolve())))
  const port = (trap.address() as net.AddressInfo).port
  const tenant = await startSecuredTenant(t, { config: { KENTRO_API_URL: `https://${name}:${port}/kentro/int`, ...KENTRO } })
  const res = await call(tenant, 'POST', '/clt/fluxo-completo', { json: { cpf: '52998224725' } })
  t.equal(res.status, 502, 'the flow cannot reach Kentro')
  t.equal(res.body.error, 'upstream_endereco_bloqueado', 'because the destination is not public')
  t.notOk(res.text.includes(KENTRO_KEY), 'no key in the answer')
  t.equal(connections, 0, 'not one connection reached the private address')
})

t.test('an allowlisted upstream\'s error body comes back as our wording plus a short sanitized reason', { skip: NEEDS_BUILD }, async (t) => {
  const marker = 'INTERNAL-PAGE-CONTENT-7f3a'
  let mode: 'html' | 'json' = 'html'
  const upstream = http.createServer((req, res) => {
    req.resume()
    res.writeHead(400, { 'content-type': mode === 'html' ? 'text/html' : 'application/json' })
    res.end(mode === 'html'
      ? `<html><body><h1>Admin</h1>${'x'.repeat(2000)}${marker}</body></html>`
      : JSON.stringify({ message: `Bad\nthing <b>bold</b>\u2028 ${'y'.repeat(500)}${marker}` }))
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => upstream.close(() => resolve())))
  const port = (upstream.address() as net.AddressInfo).port
  // The operator trusts this internal host explicitly (plain http, loopback).
  const tenant = await startSecuredTenant(t, { config: { UPSTREAM_ALLOWLIST: '127.0.0.1', KENTRO_API_URL: `http://127.0.0.1:${port}/int`, ...KENTRO } })
  const page = await call(tenant, 'POST', '/clt/fluxo-completo', { json: { cpf: '52998224725' } })
  t.equal(page.status, 422, 'the refusal is mapped')
  t.notOk(page.text.includes(marker), 'the foreign page is not echoed')
  t.match(page.body.message, /resposta não-JSON de \d+ bytes/, 'only its size is told')
  mode = 'json'
  const json = await call(tenant, 'POST', '/clt/fluxo-completo', { json: { cpf: '52998224725' } })
  t.equal(json.status, 422, 'a JSON refusal too')
  t.match(json.body.message, /^Kentro recusou \(getPipeOpportunities\): Bad thing bold y+…$/, 'our wording, then the reason without markup or line breaks')
  t.notOk(json.text.includes(marker), 'cut short before the rest of the body')
  t.ok(json.body.message.length < 220, `short (${json.body.message.length} chars)`)
})
