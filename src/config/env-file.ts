/**
 * Reading and atomically rewriting `.env` files. Every edit is checked on the whole file: the new text is
 * parsed with dotenv.parse and refused unless exactly the intended keys changed (to exactly the intended values).
 */
import fs from 'node:fs'
import path from 'node:path'
import { parse } from 'dotenv'
import { keepBackup } from './backups.js'
import { fsyncDir, writeNewFile } from './durable.js'

export function parseEnvText (text: string): Record<string, string> {
  return parse(text)
}

/**
 * Characters a stored value may never hold: every control character (C0, DEL, C1 — NUL, \n, \r, \t, U+0085 …)
 * and the Unicode line and paragraph separators. JavaScript regular expressions (dotenv's `^`/`$`/`.`/`\s`)
 * treat U+2028/U+2029 as line ends, so a value holding one could end up read as the start of another entry.
 */
const FORBIDDEN_IN_VALUE = /[\p{Cc}\u2028\u2029]/u

/** The first forbidden character of a value, as U+XXXX, or undefined when the value is storable. */
export function forbiddenCharacter (value: string): string | undefined {
  const m = FORBIDDEN_IN_VALUE.exec(value)
  return m ? `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : undefined
}

/**
 * Render a value so dotenv.parse gives it back byte for byte, even with other entries around it.
 * dotenv has no escape for quotes, so pick a quote character the value does not contain; a value ending in a
 * backslash is never quoted (dotenv reads `\'` as an escaped quote and would run on into the next entry).
 * Returns undefined when no form is safe (the caller reports it as bad input).
 */
export function quoteEnvValue (value: string): string | undefined {
  if (forbiddenCharacter(value) !== undefined) return undefined
  const candidates = value.endsWith('\\') ? [] : [`'${value}'`, `\`${value}\``, `"${value}"`]
  for (const quoted of candidates) {
    if (value.includes(quoted[0]!)) continue
    if (parse(`K=${quoted}\n`)['K'] === value) return quoted
  }
  // Bare: only what dotenv reads back unchanged (no comment mark, no surrounding blanks, no leading quote).
  if (value !== '' && !/^\s|\s$|#|^['"`]/.test(value) && parse(`K=${value}\n`)['K'] === value) return value
  return undefined
}

export class UnrepresentableValueError extends Error {
  override name = 'UnrepresentableValueError'
  constructor (
    readonly key: string,
    /** `control`: the value holds a control or line-separator character (named in `character`); `quotes`: no quoting is safe. */
    readonly reason: 'control' | 'quotes',
    readonly character?: string
  ) {
    super(
      reason === 'control'
        ? `the value of ${key} holds the control character ${character ?? ''}; line breaks and control characters are never stored`
        : `the value of ${key} cannot be stored (it mixes ', " and \` quote characters, or ends in a backslash and also holds # or surrounding blanks)`
    )
  }
}

/** The rewritten text would change something besides the intended keys: nothing is written. */
export class EnvRewriteError extends Error {
  override name = 'EnvRewriteError'
  constructor (readonly keys: string[]) {
    super(`rewriting the file would also change ${keys.join(', ')}; nothing was written`)
  }
}

/**
 * Apply `updates` to env text, keeping comments, order and untouched lines as they are.
 * A key set to undefined is left alone; new keys are appended. The result is verified as a whole
 * (verifyEnvEdit): it throws instead of returning text in which anything else moved.
 */
export function updateEnvText (text: string, updates: Record<string, string | undefined>): string {
  const pending = new Map(Object.entries(updates).filter((e): e is [string, string] => e[1] !== undefined))
  const intended = new Map(pending)
  const render = (key: string, value: string): string => {
    const bad = forbiddenCharacter(value)
    if (bad !== undefined) throw new UnrepresentableValueError(key, 'control', bad)
    const quoted = quoteEnvValue(value)
    if (quoted === undefined) throw new UnrepresentableValueError(key, 'quotes')
    return `${key}=${quoted}`
  }
  for (const [key, value] of pending) render(key, value) // refuse bad values before touching anything
  const out: string[] = []
  for (const entry of splitEntries(text)) {
    const key = /^\s*(?:export\s+)?([\w.-]+)\s*=/.exec(entry.text)?.[1]
    if (key !== undefined && pending.has(key)) {
      out.push(render(key, pending.get(key)!) + entry.end)
      pending.delete(key)
    } else if (key !== undefined && intended.has(key)) {
      // A second entry for a key already written: drop it, or it would win over the new value (dotenv: last wins).
      continue
    } else {
      out.push(entry.text + entry.end)
    }
  }
  let result = out.join('')
  if (result !== '' && !result.endsWith('\n')) result += '\n'
  for (const [key, value] of pending) result += render(key, value) + '\n'
  verifyEnvEdit(text, result, Object.fromEntries(intended))
  return result
}

/**
 * Parse both texts whole and throw EnvRewriteError unless `after` = `before` with exactly `updates` applied:
 * no key appears, disappears or changes value except the updated ones, which hold exactly their new values.
 */
export function verifyEnvEdit (before: string, after: string, updates: Record<string, string>): void {
  const old = parse(before)
  const now = parse(after)
  const expected: Record<string, string> = { ...old, ...updates }
  const wrong = new Set<string>()
  for (const key of new Set([...Object.keys(expected), ...Object.keys(now)])) {
    if (!Object.hasOwn(now, key) || !Object.hasOwn(expected, key) || now[key] !== expected[key]) wrong.add(key)
  }
  if (wrong.size > 0) throw new EnvRewriteError([...wrong].sort())
}

interface Entry {
  /** The entry's text: one line, or a KEY=<quote>… running over several lines to its closing quote. */
  text: string
  /** The line terminator that followed it ('' at the end of the text). */
  end: string
}

/**
 * Split env text into entries at every line terminator JavaScript knows (\n, \r\n, \r, U+2028, U+2029):
 * dotenv's multi-line regular expression starts a new entry after any of them. A quoted value continues
 * until its closing quote (a quote after a backslash does not close it, as in dotenv).
 */
function splitEntries (text: string): Entry[] {
  const parts = text.split(/(\r\n|\r|\n|\u2028|\u2029)/)
  const lines: Entry[] = []
  for (let i = 0; i < parts.length; i += 2) lines.push({ text: parts[i]!, end: parts[i + 1] ?? '' })
  if (lines.at(-1)?.text === '' && lines.at(-1)?.end === '') lines.pop()
  const entries: Entry[] = []
  for (let i = 0; i < lines.length; i++) {
    let { text: entry, end } = lines[i]!
    const m = /^\s*(?:export\s+)?[\w.-]+\s*=\s*(['"`])([\s\S]*)$/.exec(entry)
    if (m) {
      const quote = m[1]!
      let rest = m[2]!
      while (!closes(rest, quote) && i + 1 < lines.length) {
        i++
        entry += end + lines[i]!.text
        end = lines[i]!.end
        rest = lines[i]!.text
      }
    }
    entries.push({ text: entry, end })
  }
  return entries
}

/** Whether a line holds an unescaped closing `quote`. */
function closes (rest: string, quote: string): boolean {
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '\\' && rest[i + 1] === quote) i++
    else if (rest[i] === quote) return true
  }
  return false
}

/** The temp file name writeFileAtomic uses for `file` (the pid lets a later start tell a dead writer's leftovers). */
const tempName = (file: string): string =>
  path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`)

/**
 * Write a file atomically: temp file (created with `mode`) in the same folder, fsync, `verify` the bytes as read
 * back from disk, keep the old file as a timestamped .bak-<time> copy (unless told not to), rename.
 */
export function writeFileAtomic (file: string, content: string, mode = 0o600, backup = true, verify?: (written: string) => void): void {
  const tmp = tempName(file)
  writeNewFile(tmp, content, mode)
  try {
    fs.chmodSync(tmp, mode)
    verify?.(fs.readFileSync(tmp, 'utf8'))
    if (backup && fs.existsSync(file)) keepBackup(file, mode)
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
  fsyncDir(path.dirname(file))
}

/**
 * Remove temp files writeFileAtomic left next to `file` when its process died mid-write (kill -9 during a save):
 * they hold every secret of the file. A temp file whose writer is still alive (another process of the same
 * tenant during a reload) is left alone. Returns the names removed.
 */
export function removeStaleTempFiles (file: string, alive: (pid: number) => boolean = pidAlive): string[] {
  const dir = path.dirname(file)
  const prefix = `.${path.basename(file)}.tmp-`
  const removed: string[] = []
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return removed
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1])
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) continue
    fs.rmSync(path.join(dir, name), { force: true })
    removed.push(name)
  }
  return removed
}

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
