/** The console's settings: made once with a 0600 file, the key shown once, rotation picked up on the running console's re-read, arguments checked. */
import fs from 'node:fs'
import t from 'tap'
import { consoleKey, consoleKeyLines } from '../../src/cli/console-key.js'
import { ConsoleSettings, consoleFile, ensureConsoleConfig, loadConsoleConfig, parseConsoleConfig } from '../../src/config/console.js'
import { keyFingerprint } from '../../src/config/keys.js'
import { parseConsoleArgs } from '../../src/console/main.js'
import { tempRoot } from '../fixtures/config.js'

t.test('console:key: made once (0600, shown once), then a fingerprint only, --rotate shows a new one', async (t) => {
  const root = tempRoot(t, 'cltv8-console-key-')
  const first = consoleKey(root)
  t.ok(first.created, 'made on first use')
  t.equal(fs.statSync(consoleFile(root)).mode & 0o777, 0o600, 'the file is 0600')
  t.ok(first.shown && first.shown.length >= 32, 'a long key, shown')
  t.equal(loadConsoleConfig(root).ADMIN_KEY, first.shown, 'the key in the file')
  t.match(consoleKeyLines(first).join('\n'), first.shown!, 'printed')
  t.match(first.url, 'http://127.0.0.1:7000/', 'default: loopback, port 7000')

  const again = consoleKey(root)
  t.notOk(again.created || again.shown, 'not made or shown again')
  const text = consoleKeyLines(again).join('\n')
  t.notOk(text.includes(first.shown!), 'the key is never printed again')
  t.match(text, keyFingerprint(first.shown!), 'its fingerprint is')

  // The running console holds its settings as ConsoleSettings (console/main.ts), re-read on SIGHUP only.
  const live = new ConsoleSettings(loadConsoleConfig(root), consoleFile(root))
  t.equal(live.get().ADMIN_KEY, first.shown, 'the running console reads the key')
  const rotated = consoleKey(root, { rotate: true })
  t.ok(rotated.rotated && rotated.shown && rotated.shown !== first.shown, 'a new key, shown once')
  t.equal(rotated.previousKey, first.shown, 'the rotation knows the key it replaced (to check the switch)')
  t.notOk(consoleKeyLines(rotated).join('\n').includes(first.shown!), 'and never prints it')
  t.equal(live.get().ADMIN_KEY, first.shown, 'no look at the file per read: the key in force until the re-read')
  t.same(live.reload(), { changed: ['ADMIN_KEY'], atStartOnly: [] }, 'the re-read (SIGHUP) finds the new key, which applies at once')
  t.equal(live.get().ADMIN_KEY, rotated.shown, 'the running console takes the new key without a restart')
  t.equal(fs.statSync(consoleFile(root)).mode & 0o777, 0o600, 'still 0600')
  fs.appendFileSync(consoleFile(root), "TRUST_PROXY='127.0.0.1'\n")
  t.same(live.reload(), { changed: ['TRUST_PROXY'], atStartOnly: ['TRUST_PROXY'] }, 'a setting taken at start only is named as such')
  fs.writeFileSync(consoleFile(root), "ADMIN_KEY='short'\n")
  t.throws(() => live.reload(), /ADMIN_KEY must be at least 32 characters/, 'an invalid edit is refused at the re-read')
  t.equal(live.get().ADMIN_KEY, rotated.shown, 'and the settings in force stay')
})

t.test('console settings: defaults, refusals, a bad port refused', async (t) => {
  const root = tempRoot(t, 'cltv8-console-key-')
  t.throws(() => loadConsoleConfig(root), /run npm run console:key/, 'missing file: says what to run')
  t.throws(() => parseConsoleConfig("ADMIN_KEY='x'\n", 'f'), /ADMIN_KEY must be at least 32 characters/, 'a short key')
  t.throws(() => parseConsoleConfig("PORT='80'\nADMIN_KEY='" + 'k'.repeat(40) + "'\n", 'f'), /PORT must be between 1024 and 65535/, 'a low port')
  t.throws(() => consoleKey(root, { port: 6000 }), /browsers refuse/, 'the console itself on a bad port is refused')
  const made = ensureConsoleConfig(root, { port: 7100, host: '0.0.0.0' })
  t.match(made.config, { PORT: 7100, HOST: '0.0.0.0' }, 'chosen port and address')
  t.equal(consoleKey(root).url, 'http://127.0.0.1:7100/', 'every interface → opened on loopback here')
})

t.test('the console process arguments', async (t) => {
  t.match(parseConsoleArgs(['--root', '/r', '--port', '7001', '--log-target', 'stdout']), { root: '/r', port: 7001, logTarget: 'stdout' }, 'parsed')
  t.throws(() => parseConsoleArgs(['--port', '80']), /between 1024 and 65535/, 'a bad port')
  t.throws(() => parseConsoleArgs(['--log-target', 'syslog']), /files or stdout/, 'a bad log target')
  t.throws(() => parseConsoleArgs(['--nope']), /Unknown option/, 'an unknown option')
})
