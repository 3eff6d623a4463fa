/** AuthFailureGuard on a clock the test moves: allowance, lockout, fresh start; addresses grouped as clients. */
import t from 'tap'
import { AuthFailureGuard, clientKey } from '../../src/http/auth.js'
import { manualClock } from '../fixtures/sandbox.js'

t.test('clientKey groups IPv6 by /64 and reads IPv4-mapped addresses as IPv4', async (t) => {
  t.equal(clientKey('203.0.113.9'), '203.0.113.9', 'IPv4 as is')
  t.equal(clientKey('::ffff:203.0.113.9'), '203.0.113.9', 'IPv4-mapped')
  t.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64', 'IPv6 by /64')
  t.equal(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64', 'the same /64 is one client')
  t.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64', 'compressed zeros expanded')
  t.equal(clientKey('::1'), '0:0:0:0::/64', 'loopback')
})

t.test('allowance, lockout for the configured time, then a fresh allowance; other clients unaffected', async (t) => {
  const clock = manualClock()
  const guard = new AuthFailureGuard(() => ({ failuresPerMinute: 3, lockoutSeconds: 30 }), clock.now)
  for (let i = 0; i < 3; i++) {
    t.equal(guard.admit('a').waitMs, 0, `try ${i + 1} admitted`)
    guard.fail('a')
  }
  const locked = guard.admit('a')
  t.equal(locked.waitMs, 30_000, 'the fourth try locks the client for 30 s')
  t.equal(locked.lockedNow, true, 'and says so once')
  t.equal(guard.admit('a').lockedNow, false, 'not again')
  t.equal(guard.admit('b').waitMs, 0, 'another client is admitted')
  clock.advance(29_000)
  t.equal(guard.admit('a').waitMs, 1000, 'still locked a second before the end')
  clock.advance(1000)
  t.equal(guard.admit('a').waitMs, 0, 'free after the lockout')
  guard.fail('a')
  t.equal(guard.admit('a').failures, 1, 'with a fresh count')
  clock.advance(60_000)
  t.equal(guard.admit('a').failures, 0, 'a quiet minute clears the count')
})

t.test('memory is bounded whatever the number of addresses', async (t) => {
  const guard = new AuthFailureGuard(() => ({ failuresPerMinute: 3, lockoutSeconds: 30 }), Date.now, 100)
  for (let i = 0; i < 1000; i++) guard.fail(`10.0.${i >> 8}.${i & 255}`)
  t.ok(guard.size <= 100, `tracked addresses capped (${guard.size})`)
})
