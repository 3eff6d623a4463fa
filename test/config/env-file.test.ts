import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { CONFIG_BACKUPS_KEPT, keepBackup, listBackups } from '../../src/config/backups.js'
import { EnvRewriteError, parseEnvText, quoteEnvValue, removeStaleTempFiles, UnrepresentableValueError, updateEnvText, verifyEnvEdit, writeFileAtomic } from '../../src/config/env-file.js'
import { tempRoot } from '../fixtures/config.js'

t.test('tricky values round-trip exactly through dotenv.parse', async (t) => {
  const values = [
    'simple',
    'with space',
    'p#ss$word&$1',
    "it's",
    'say "hi"',
    'back\\slash\\n literal',
    '$&$1$`',
    ' leading and trailing ',
    'ends in backslash\\',
    'both \' and "',
    '',
    'çãõé€',
  ]
  for (const v of values) {
    const q = quoteEnvValue(v)
    t.ok(q !== undefined, `quotable: ${JSON.stringify(v)}`)
    t.equal(parseEnvText(`K=${q}\n`)['K'], v, `round-trips: ${JSON.stringify(v)}`)
  }
  t.equal(parseEnvText(`K=${quoteEnvValue('a\'b"c`d')!}\n`)['K'], 'a\'b"c`d', 'all three quote kinds: written bare')
  t.equal(quoteEnvValue('\'a"b`c'), undefined, 'all three quote kinds and a leading quote cannot be represented')
  for (const bad of ['multi\nline', 'cr\rhere', 'tab\there', 'nul\u0000', 'nel\u0085', 'ls\u2028', 'ps\u2029', 'del\u007f', 'esc\u001b']) {
    const shown = bad.replace(/[^ -~]/g, (c) => `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`)
    t.equal(quoteEnvValue(bad), undefined, `control or line separator refused: ${shown}`)
  }
})

t.test('updateEnvText refuses line terminators and control characters, naming the character', async (t) => {
  for (const [value, char] of [['a\u2028\nV8_AUTH_URL=https://evil', 'U+2028'], ['x\u2029y', 'U+2029'], ['x\ny', 'U+000A'], ['x\u0000', 'U+0000'], ['x\u0085', 'U+0085']] as const) {
    const err = t.throws(() => updateEnvText('A=1\n', { V8_PASSWORD: value })) as UnrepresentableValueError
    t.equal(err.reason, 'control', `refused as control: ${char}`)
    t.equal(err.character, char, `names ${char}`)
  }
})

t.test('an old file holding a U+2028 value is edited whole: the next save cannot leak lines into new keys', async (t) => {
  // What the previous writer stored for the attack value "x\u2028\nV8_AUTH_URL=https://evil\nAPI_KEY=stolen".
  const text = "A=1\nV8_PASSWORD='x\u2028\nV8_AUTH_URL=https://evil\nAPI_KEY=stolen'\nAPI_KEY=real-key\n"
  t.same(parseEnvText(text), { A: '1', V8_PASSWORD: 'x\u2028\nV8_AUTH_URL=https://evil\nAPI_KEY=stolen', API_KEY: 'real-key' }, 'one quoted value to start with')
  const out = updateEnvText(text, { V8_PASSWORD: 'new' })
  t.same(parseEnvText(out), { A: '1', V8_PASSWORD: 'new', API_KEY: 'real-key' }, 'the whole old value is replaced; no key appears')
})

t.test('verifyEnvEdit refuses any change beyond the intended keys', async (t) => {
  verifyEnvEdit('A=1\nB=2\n', "A=1\nB='3'\n", { B: '3' })
  t.pass('exactly the intended key changed')
  const extra = t.throws(() => verifyEnvEdit('A=1\n', 'A=1\nB=2\nAPI_KEY=x\n', { B: '2' })) as EnvRewriteError
  t.same(extra.keys, ['API_KEY'], 'a key that appears is named')
  const lost = t.throws(() => verifyEnvEdit('A=1\nC=3\n', 'A=2\n', { A: '2' })) as EnvRewriteError
  t.same(lost.keys, ['C'], 'a key that disappears is named')
  const wrong = t.throws(() => verifyEnvEdit('A=1\n', 'A=3\n', { A: '2' })) as EnvRewriteError
  t.same(wrong.keys, ['A'], 'an intended key with another value is named')
})

t.test('a duplicated key is written once, so the new value is the one that counts', async (t) => {
  const out = updateEnvText('K=1\nA=x\nK=2\n', { K: 'new' })
  t.same(parseEnvText(out), { K: 'new', A: 'x' }, 'later duplicate dropped')
})

t.test('random printable strings round-trip or are refused, never altered', async (t) => {
  const alphabet = 'abcXYZ019 #$&\'"`\\\n=;!*%'
  let seed = 42
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  let refused = 0
  for (let i = 0; i < 2000; i++) {
    const len = Math.floor(rnd() * 20)
    let v = ''
    for (let j = 0; j < len; j++) v += alphabet[Math.floor(rnd() * alphabet.length)]
    const q = quoteEnvValue(v)
    if (q === undefined) {
      refused++
      t.throws(() => updateEnvText('A=1\n', { K: v }), 'refused by the writer too')
      continue
    }
    const back = parseEnvText(updateEnvText('A=1\n', { K: v }))['K']
    if (back !== v) t.fail(`altered: ${JSON.stringify(v)} → ${JSON.stringify(back)}`)
  }
  t.ok(refused < 2000, `most values representable (${refused} refused)`)
})

t.test('updateEnvText keeps comments, order and other entries, replaces multi-line values whole', async (t) => {
  const text = "# header\nA=1\nB='two\nlines'\n# mid\nC=3\n"
  const out = updateEnvText(text, { B: 'x', D: 'new' })
  t.equal(out, "# header\nA=1\nB='x'\n# mid\nC=3\nD='new'\n", 'surgical update')
  const parsed = parseEnvText(out)
  t.same(parsed, { A: '1', B: 'x', C: '3', D: 'new' }, 'parses back')
})

t.test('writeFileAtomic keeps timestamped 0600 copies of the previous versions and leaves no temp file', async (t) => {
  const root = tempRoot(t)
  const file = path.join(root, 'tenants', 'x.env')
  writeFileAtomic(file, 'A=1\n')
  writeFileAtomic(file, 'A=2\n')
  writeFileAtomic(file, 'A=3\n')
  t.equal(fs.readFileSync(file, 'utf8'), 'A=3\n', 'new content')
  const kept = listBackups(file)
  t.same(kept.map((f) => fs.readFileSync(f, 'utf8')), ['A=2\n', 'A=1\n'], 'both previous versions kept, newest first (a second save does not overwrite the first one\'s copy)')
  t.ok(kept.every((f) => /\.bak-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z(-\d+)?$/.test(f)), 'named by time')
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'file is 0600')
  t.ok(kept.every((f) => (fs.statSync(f).mode & 0o777) === 0o600), 'copies are 0600')
  t.same(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('.tmp-')), [], 'no temp files left')
})

t.test('writeFileAtomic checks the bytes read back before the rename; a refusal leaves the file and no temp file', async (t) => {
  const root = tempRoot(t)
  const file = path.join(root, 'tenants', 'x.env')
  writeFileAtomic(file, 'A=1\n')
  let seen = ''
  t.throws(() => writeFileAtomic(file, 'A=2\n', 0o600, true, (w) => { seen = w; throw new Error('no') }), /no/, 'verify error thrown')
  t.equal(seen, 'A=2\n', 'verify saw the written bytes')
  t.equal(fs.readFileSync(file, 'utf8'), 'A=1\n', 'file unchanged')
  t.same(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('.tmp-')), [], 'no temp file left')
})

t.test('removeStaleTempFiles deletes a dead writer\'s temp files and keeps a live one\'s', async (t) => {
  const root = tempRoot(t)
  const file = path.join(root, 'tenants', 'config-6000.env')
  fs.writeFileSync(file, 'A=1\n', { mode: 0o600 })
  const dead = path.join(root, 'tenants', '.config-6000.env.tmp-999999-1-abc')
  const live = path.join(root, 'tenants', `.config-6000.env.tmp-${process.ppid}-1-abc`)
  const other = path.join(root, 'tenants', '.config-6001.env.tmp-999999-1-abc')
  for (const f of [dead, live, other]) fs.writeFileSync(f, 'API_KEY=secret\n', { mode: 0o600 })
  const removed = removeStaleTempFiles(file, (pid) => pid === process.ppid)
  t.same(removed, [path.basename(dead)], 'only the dead writer\'s file of this port')
  t.notOk(fs.existsSync(dead), 'dead writer\'s temp file removed')
  t.ok(fs.existsSync(live), 'a live writer\'s temp file kept')
  t.ok(fs.existsSync(other), 'another port\'s temp file kept')
})

t.test('keepBackup keeps the newest CONFIG_BACKUPS_KEPT copies', async (t) => {
  const root = tempRoot(t)
  const file = path.join(root, 'tenants', 'y.env')
  for (let i = 0; i < CONFIG_BACKUPS_KEPT + 3; i++) {
    fs.writeFileSync(file, `A=${i}\n`)
    keepBackup(file, 0o600, CONFIG_BACKUPS_KEPT, new Date(Date.UTC(2026, 0, 1, 0, 0, i)))
  }
  const kept = listBackups(file)
  t.equal(kept.length, CONFIG_BACKUPS_KEPT, 'older copies dropped')
  t.equal(fs.readFileSync(kept[0]!, 'utf8'), `A=${CONFIG_BACKUPS_KEPT + 2}\n`, 'the newest is first')
  t.equal(fs.readFileSync(kept.at(-1)!, 'utf8'), 'A=3\n', 'the oldest kept is the 10th newest')
  keepBackup(file, 0o600, CONFIG_BACKUPS_KEPT, new Date(Date.UTC(2026, 0, 1, 0, 0, CONFIG_BACKUPS_KEPT + 2)))
  t.match(listBackups(file)[0]!, /-1$/, 'two copies in the same millisecond get distinct names')
})
