import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parseEnvText, quoteEnvValue, updateEnvText, writeFileAtomic } from '../../src/config/env-file.js'
import { tempRoot } from '../fixtures/config.js'

t.test('tricky values round-trip exactly through dotenv.parse', async (t) => {
  const values = [
    'simple',
    'with space',
    'p#ss$word&$1',
    "it's",
    'say "hi"',
    'multi\nline\nvalue',
    'back\\slash\\n literal',
    '$&$1$`',
    ' leading and trailing ',
    'tab\there',
    'both \' and "',
    '',
    'çãõé€',
  ]
  for (const v of values) {
    const q = quoteEnvValue(v)
    t.ok(q !== undefined, `quotable: ${JSON.stringify(v)}`)
    t.equal(parseEnvText(`K=${q}\n`)['K'], v, `round-trips: ${JSON.stringify(v)}`)
  }
  t.equal(quoteEnvValue('a\'b"c`d'), undefined, 'all three quote kinds cannot be represented')
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

t.test('writeFileAtomic keeps a .bak with mode 0600 and leaves no temp file', async (t) => {
  const root = tempRoot(t)
  const file = path.join(root, 'tenants', 'x.env')
  writeFileAtomic(file, 'A=1\n')
  writeFileAtomic(file, 'A=2\n')
  t.equal(fs.readFileSync(file, 'utf8'), 'A=2\n', 'new content')
  t.equal(fs.readFileSync(`${file}.bak`, 'utf8'), 'A=1\n', 'previous kept as .bak')
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'file is 0600')
  t.equal(fs.statSync(`${file}.bak`).mode & 0o777, 0o600, '.bak is 0600')
  t.same(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('.tmp-')), [], 'no temp files left')
})
