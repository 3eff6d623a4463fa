/** Durable file writes: a file that must not exist yet, written and fsynced; a folder's entries fsynced. */
import fs from 'node:fs'

/**
 * Create `file` (mode `mode`) and write all of `content` to disk before returning. The `wx` flag refuses an existing file
 * (EEXIST), so two writers racing for one name cannot both win.
 */
export function writeNewFile (file: string, content: string | Uint8Array, mode = 0o600): void {
  const fd = fs.openSync(file, 'wx', mode)
  try {
    fs.writeFileSync(fd, content)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/** fsync a folder, so a rename or a new entry in it survives a crash. */
export function fsyncDir (dir: string): void {
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}
