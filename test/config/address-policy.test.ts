/** Upstream address rules: address classes, URL checks in every spelling, the sandbox and allowlist exceptions. */
import t from 'tap'
import { addressProblem, allowEntryProblem, classifyAddress, urlProblem, type UpstreamPolicy } from '../../src/config/address-policy.js'
import { parseTenantConfig } from '../../src/config/load.js'
import { configText } from '../fixtures/config.js'

const STRICT: UpstreamPolicy = { sandbox: false, allow: [] }
const SANDBOX: UpstreamPolicy = { sandbox: true, allow: [] }

t.test('classifyAddress', async (t) => {
  const cases: Array<[string, string]> = [
    ['8.8.8.8', 'public'], ['2606:4700::1111', 'public'], ['127.0.0.1', 'loopback'], ['127.9.9.9', 'loopback'], ['::1', 'loopback'],
    ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'], ['10.0.0.1', 'private'], ['172.16.5.4', 'private'], ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'], ['fd12::1', 'private'], ['0.0.0.0', 'reserved'], ['::', 'reserved'], ['224.0.0.1', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:a9fe:a9fe', 'link-local'], ['64:ff9b::10.0.0.1', 'private'],
  ]
  for (const [ip, kind] of cases) t.equal(classifyAddress(ip), kind, `${ip} is ${kind}`)
})

t.test('urlProblem: strict, sandbox and allowlist', async (t) => {
  t.equal(urlProblem('https://bff.v8sistema.com', STRICT), undefined, 'https public host')
  t.equal(urlProblem('http://bff.v8sistema.com', STRICT), 'not_https', 'plain http refused')
  for (const url of ['https://127.0.0.1/', 'https://2130706433/', 'https://0x7f000001/', 'https://127.1/', 'https://[::1]/', 'https://localhost/', 'https://a.localhost/']) {
    t.equal(urlProblem(url, STRICT), 'loopback', `${url} is loopback`)
    t.equal(urlProblem(url, SANDBOX), undefined, `${url} allowed for a sandbox tenant`)
  }
  t.equal(urlProblem('http://127.0.0.1:7070', SANDBOX), undefined, 'sandbox: plain http to loopback')
  t.equal(urlProblem('http://169.254.169.254/', SANDBOX), 'private_address', 'sandbox: never link-local')
  t.equal(urlProblem('https://10.0.0.1/', SANDBOX), 'private_address', 'sandbox: never private')
  t.equal(urlProblem('https://u:p@example.com/', STRICT), 'credentials', 'credentials refused')
  t.equal(urlProblem('ftp://example.com/', STRICT), 'invalid', 'other schemes refused')
  const allow: UpstreamPolicy = { sandbox: false, allow: ['10.0.0.0/8', 'crm.intranet', '.corp.example'] }
  t.equal(urlProblem('http://10.2.3.4:8080/x', allow), undefined, 'allowlisted CIDR, plain http')
  t.equal(urlProblem('http://crm.intranet/x', allow), undefined, 'allowlisted host')
  t.equal(urlProblem('http://a.corp.example/x', allow), undefined, 'allowlisted domain suffix')
  t.equal(urlProblem('http://corp.example.evil.com/x', allow), 'not_https', 'a suffix is a suffix, not a substring')
  t.equal(urlProblem('https://192.168.0.1/', allow), 'private_address', 'outside the allowlist')
})

t.test('addressProblem at connect time', async (t) => {
  t.equal(addressProblem('api.example.com', '93.184.216.34', STRICT), undefined, 'public address')
  t.equal(addressProblem('rebind.example.com', '127.0.0.1', STRICT), 'loopback', 'a public name resolving to loopback')
  t.equal(addressProblem('rebind.example.com', '169.254.169.254', SANDBOX), 'private_address', 'link-local even for a sandbox tenant')
  t.equal(addressProblem('rebind.example.com', '127.0.0.1', SANDBOX), undefined, 'loopback for a sandbox tenant')
  t.equal(addressProblem('crm.intranet', '10.9.9.9', { sandbox: false, allow: ['crm.intranet'] }), undefined, 'allowlisted name')
  t.equal(addressProblem('x.example.com', '10.9.9.9', { sandbox: false, allow: ['10.0.0.0/8'] }), undefined, 'allowlisted range')
})

t.test('allowlist entries and the config file', async (t) => {
  t.equal(allowEntryProblem('10.0.0.0/8'), undefined, 'CIDR')
  t.equal(allowEntryProblem('fd00::/8'), undefined, 'IPv6 CIDR')
  t.equal(allowEntryProblem('.corp.example'), undefined, 'domain suffix')
  t.match(allowEntryProblem('10.0.0.0/33') ?? '', /CIDR/, 'prefix too long')
  t.match(allowEntryProblem('http://x') ?? '', /not a/, 'a URL is not an entry')
  t.throws(() => parseTenantConfig(configText(6999, { KENTRO_API_URL: 'http://10.0.0.5/int' }), 'f'), /KENTRO_API_URL .*private/, 'file: private refused')
  const ok = parseTenantConfig(configText(6999, { KENTRO_API_URL: 'http://10.0.0.5/int', UPSTREAM_ALLOWLIST: '10.0.0.5' }), 'f').config
  t.same(ok.UPSTREAM_ALLOWLIST, ['10.0.0.5'], 'file: allowlisted')
  t.equal(parseTenantConfig(configText(6999, { SANDBOX: 'true', V8_API_URL: 'http://127.0.0.1:7070' }), 'f').config.SANDBOX, true, 'file: sandbox')
})
