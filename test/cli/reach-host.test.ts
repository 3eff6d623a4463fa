/** One rule for reaching a bind address from this machine (status, key, reload, restore, lote, console, Prometheus, Caddy). */
import t from 'tap'
import { reachHost } from '../../src/cli/net.js'

t.test('every-interface binds are reached on loopback; IPv6 goes in brackets once', async (t) => {
  for (const wild of [undefined, '', '0.0.0.0', '::', '[::]']) t.equal(reachHost(wild), '127.0.0.1', `${String(wild)} → loopback`)
  t.equal(reachHost('127.0.0.1'), '127.0.0.1', 'an IPv4 address as it is')
  t.equal(reachHost('10.0.0.5'), '10.0.0.5', 'a private address as it is')
  t.equal(reachHost('::1'), '[::1]', 'IPv6 bracketed')
  t.equal(reachHost('[::1]'), '[::1]', 'an already bracketed address is not bracketed twice')
  t.equal(reachHost('tenant.internal'), 'tenant.internal', 'a name as it is')
})
