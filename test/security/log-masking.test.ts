/**
 * Finding 7 (PII and keys in logs), against a real tenant: CPFs in any separator style or percent-encoding and
 * anything shaped like a tenant key (this tenant's, percent-encoded, or another tenant's) never reach a log file.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { TEST_API_KEY } from '../fixtures/config.js'
import { call, closeAgents, logLines, NEEDS_BUILD, startSecuredTenant } from '../fixtures/security.js'

t.teardown(closeAgents)

const CPF = '52998224725'
const pct = (s: string): string => [...s].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join('')

const CPF_FORMS = [
  '529%2E982%2E247%2D25',
  pct(CPF),
  '529%20982%20247%2025',
  '529_982_247_25',
  '529.982.247-25',
  '529-982-247-25',
  '529+982+247+25',
  '529%2F982%2F247%2F25',
  '%2535%2532%2539%2539%2538%2532%2532%2534%2537%2532%2535', // encoded twice
  CPF,
]

/** Every run of digits a text holds, once percent-escapes (any depth) and separators are taken out. */
function digitsOf (text: string): string {
  let s = text
  for (let i = 0; i < 4; i++) s = s.replace(/%([0-7][0-9A-Fa-f])/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
  return s.replace(/[^\d]/g, '')
}

t.test('CPFs in any form and key-shaped tokens in URLs and user agents are masked in every log file', { skip: NEEDS_BUILD }, async (t) => {
  const tenant = await startSecuredTenant(t)
  const otherTenantKey = randomBytes(32).toString('base64url')
  for (const form of CPF_FORMS) {
    await call(tenant, 'GET', `/cache/simulacao/${form}`) // authorized: reaches the route
    await call(tenant, 'GET', `/nao-existe/${form}?cpf=${form}`, { key: null }) // 404 without a key
  }
  for (const key of [TEST_API_KEY, encodeURIComponent(TEST_API_KEY), pct(TEST_API_KEY), otherTenantKey, pct(otherTenantKey)]) {
    await call(tenant, 'GET', `/cache/simulacoes?api_key=${key}`)
    await call(tenant, 'GET', `/nao-existe?token=${key}`, { key: null })
  }
  await call(tenant, 'GET', '/cache/simulacoes', { headers: { 'user-agent': `bot/1.0 (cpf ${CPF_FORMS[2]}; key ${otherTenantKey}) ${'z'.repeat(5000)}` } })
  await tenant.stop()

  const dir = path.join(tenant.root, 'logs', String(tenant.port))
  const text = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n')
  const lines = logLines(tenant.root, tenant.port).filter((l) => l['msg'] === 'request completed')
  t.equal(lines.length, CPF_FORMS.length * 2 + 10 + 1, 'one line per request')
  t.notOk(digitsOf(text).includes(CPF), 'the CPF digits appear in no form, even after decoding')
  t.ok(lines.filter((l) => /\*\*\*\.\*\*\*\.\*47-25/.test(String(l['url']))).length >= CPF_FORMS.length * 2, 'each CPF shows masked, last digits kept')
  for (const [name, secret] of [['this tenant\'s key', TEST_API_KEY], ['another tenant\'s key', otherTenantKey]] as const) {
    t.notOk(text.includes(secret), `${name} absent in clear`)
    t.notOk(text.includes(encodeURIComponent(secret)) || text.includes(pct(secret)) || text.includes(pct(secret).toLowerCase()), `${name} absent percent-encoded`)
  }
  const ua = lines.find((l) => typeof l['userAgent'] === 'string' && (l['userAgent'] as string).startsWith('bot/1.0'))
  t.ok(ua, 'the user agent is logged')
  t.ok(String(ua?.['userAgent']).length < 260, 'bounded')
  t.notOk(String(ua?.['userAgent']).includes(otherTenantKey), 'key-shaped token masked in it')
})
