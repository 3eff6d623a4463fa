/** Reading and atomically rewriting `.env` files so every value round-trips exactly through dotenv.parse. */
import fs from 'node:fs'
import path from 'node:path'
import { parse } from 'dotenv'

export function parseEnvText (text: string): Record<string, string> {
  return parse(text)
}

/**
 * Quote a value so dotenv.parse gives it back byte for byte. dotenv has no escape for quotes,
 * so pick a quote character the value does not contain; verify by parsing it back.
 * Returns undefined when no quoting round-trips (the caller reports it as bad input).
 */
export function quoteEnvValue (value: string): string | undefined {
  const candidates = [`'${value}'`, `\`${value}\``, `"${value}"`]
  for (const quoted of candidates) {
    if (value.includes(quoted[0]!)) continue
    if (parse(`K=${quoted}\n`)['K'] === value) return quoted
  }
  return undefined
}

export class UnrepresentableValueError extends Error {
  override name = 'UnrepresentableValueError'
  constructor (readonly key: string) {
    super(`the value of ${key} cannot be stored (it mixes ', " and \` quote characters)`)
  }
}

/**
 * Apply `updates` to env text, keeping comments, order and untouched lines as they are.
 * A key set to undefined is left alone; new keys are appended.
 */
export function updateEnvText (text: string, updates: Record<string, string | undefined>): string {
  const pending = new Map(Object.entries(updates).filter((e): e is [string, string] => e[1] !== undefined))
  const render = (key: string, value: string): string => {
    const quoted = quoteEnvValue(value)
    if (quoted === undefined) throw new UnrepresentableValueError(key)
    return `${key}=${quoted}`
  }
  // A quoted value may span lines; walk the text with dotenv's own notion of an entry.
  const lines = splitEntries(text)
  const out = lines.map((entry) => {
    const key = /^\s*(?:export\s+)?([\w.-]+)\s*=/.exec(entry)?.[1]
    if (key === undefined || !pending.has(key)) return entry
    const line = render(key, pending.get(key)!)
    pending.delete(key)
    return line
  })
  for (const [key, value] of pending) out.push(render(key, value))
  let result = out.join('\n')
  if (!result.endsWith('\n')) result += '\n'
  return result
}

/** Split env text into entries: a line, or a KEY=<quote>… that continues until its closing quote. */
function splitEntries (text: string): string[] {
  const rawLines = text.replace(/\r\n?/g, '\n').split('\n')
  if (rawLines.at(-1) === '') rawLines.pop()
  const entries: string[] = []
  for (let i = 0; i < rawLines.length; i++) {
    let entry = rawLines[i]!
    const m = /^\s*(?:export\s+)?[\w.-]+\s*=\s*(['"`])(.*)$/.exec(entry)
    if (m) {
      const quote = m[1]!
      let rest = m[2]!
      while (!rest.includes(quote) && i + 1 < rawLines.length) {
        i++
        entry += '\n' + rawLines[i]!
        rest = rawLines[i]!
      }
    }
    entries.push(entry)
  }
  return entries
}

/** Write a file atomically: temp file in the same folder, fsync, keep the old file as .bak (unless told not to), rename. */
export function writeFileAtomic (file: string, content: string, mode = 0o600, backup = true): void {
  const dir = path.dirname(file)
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`)
  const fd = fs.openSync(tmp, 'wx', mode)
  try {
    fs.writeSync(fd, content)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  try {
    fs.chmodSync(tmp, mode)
    if (backup && fs.existsSync(file)) {
      fs.copyFileSync(file, `${file}.bak`)
      fs.chmodSync(`${file}.bak`, mode)
    }
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
  const dirFd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(dirFd)
  } finally {
    fs.closeSync(dirFd)
  }
}
