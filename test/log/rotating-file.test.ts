/** RotatingFile: size rotation counted as lines arrive, old files pruned, a bounded buffer whose drops are counted and reported, 0600 files. */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { createLogger } from '../../src/log/logger.js'
import { RotatingFile } from '../../src/log/rotating-file.js'
import { tempRoot } from '../fixtures/config.js'

const line = (i: number, pad = 100): string => JSON.stringify({ i, pad: 'x'.repeat(pad) }) + '\n'

t.test('a burst written in one go rotates by size as lines are accepted and keeps only the newest files', async (t) => {
  const root = tempRoot(t)
  const dir = path.join(root, 'logs', '6999')
  const file = new RotatingFile({ dir, name: 'out', maxBytes: 10_000, keep: 3, bufferBytes: 1_000_000, fileMode: 0o600 })
  await file.opened()
  // One synchronous burst: nothing reaches the disk before it ends, so only counting can rotate in time.
  for (let i = 0; i < 2000; i++) file.write(line(i))
  await file.close()
  const names = fs.readdirSync(dir).sort()
  t.ok(names.includes('out.log'), 'current file')
  t.ok(names.filter((n) => n !== 'out.log').length <= 3, `at most 3 old files (${names.join(', ')})`)
  for (const n of names) t.equal(fs.statSync(path.join(dir, n)).mode & 0o777, 0o600, `${n} is 0600`)
  const stats = file.stats()
  t.ok(stats.rotations >= 1, `rotated during the burst (${stats.rotations})`)
  t.equal(stats.dropped, 0, 'nothing dropped with a large buffer')
})

t.test('lines beyond the buffer are dropped, counted and reported in the file; the heap never holds more than the buffer', async (t) => {
  const root = tempRoot(t)
  const dir = path.join(root, 'logs', '6999')
  const file = new RotatingFile({ dir, name: 'out', maxBytes: 100 * 1024 * 1024, keep: 3, bufferBytes: 4096, fileMode: 0o600, base: { port: 6999 } })
  await file.opened()
  for (let i = 0; i < 500; i++) file.write(line(i))
  const mid = file.stats()
  t.ok(mid.dropped > 0, `the 4 KB buffer dropped lines (${mid.dropped})`)
  t.equal(mid.written + mid.dropped, 500, 'every line either accepted or counted as dropped')
  await file.close() // reports before closing
  const lines = fs.readFileSync(path.join(dir, 'out.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  const report = lines.find((l) => typeof l['dropped'] === 'number')
  t.ok(report, 'a report line was written')
  t.equal(report?.['dropped'], mid.dropped, 'it gives the number dropped')
  t.equal(report?.['port'], 6999, 'with the logger base fields')
  t.match(String(report?.['msg']), /log lines dropped/, 'in words')
  t.equal(lines.filter((l) => typeof l['i'] === 'number').length, mid.written, 'every accepted line is in the file')
  t.equal(file.stats().droppedReported, mid.dropped, 'the counter knows what was reported')
})

t.test('createLogger: 0700 folders, 0600 files (tightening an older 0644 file), link to the current file, stats for a metrics layer', async (t) => {
  const root = tempRoot(t)
  const logsDir = path.join(root, 'logs')
  fs.chmodSync(logsDir, 0o755)
  fs.mkdirSync(path.join(logsDir, '6999'), { mode: 0o755 })
  fs.writeFileSync(path.join(logsDir, '6999', 'out.1.log'), 'old\n', { mode: 0o644 })
  const log = await createLogger({ level: 'info', target: 'files', logsDir, name: '6999' })
  log.logger.info('hello')
  log.logger.error('bad')
  await log.close()
  t.equal(fs.statSync(logsDir).mode & 0o777, 0o700, 'logs/ is 0700')
  t.equal(fs.statSync(path.join(logsDir, '6999')).mode & 0o777, 0o700, 'logs/<port>/ is 0700')
  for (const n of fs.readdirSync(path.join(logsDir, '6999'))) t.equal(fs.statSync(path.join(logsDir, '6999', n)).mode & 0o777, 0o600, `${n} is 0600`)
  t.equal(fs.readlinkSync(path.join(logsDir, 'out-6999.log')), path.join('6999', 'out.log'), 'out-<port>.log links to the current file')
  t.match(fs.readFileSync(path.join(logsDir, 'out-6999.log'), 'utf8'), /hello/, 'readable through the link')
  t.match(fs.readFileSync(path.join(logsDir, 'error-6999.log'), 'utf8'), /bad/, 'errors through their link')
  const stats = log.stats()
  t.ok(stats['out']!.written >= 2 && stats['error']!.written >= 1, 'stats count the written lines per file')
  t.equal(stats['out']!.dropped, 0, 'and the drops')
})
