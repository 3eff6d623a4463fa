/** Can this process keep a tenant's files in its tenants folder? One clear line when it cannot (e.g. a bad container mount). */
import fs from 'node:fs'
import path from 'node:path'
import type { TenantPaths } from './paths.js'

/**
 * Why the process cannot run from `paths.tenantsDir`, or undefined. The folder holds more than the config: the
 * SQLite file with its -wal/-shm, and every page save writes a temp file there and renames it over the config
 * (keeping a .bak). So the folder itself must be writable, and the config file must live in it, not be mounted
 * over it on its own (a rename cannot replace a mount point, and the database would land beside it, outside the
 * volume). A missing folder or file is left to the config loader, which says how to create it.
 */
export function tenantsDirProblem (paths: TenantPaths): string | undefined {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined
  const who = uid === undefined ? 'this process' : `uid ${uid}`
  const fix = `mount a directory owned by ${uid === undefined ? 'the user the process runs as' : `uid ${uid}`} at ${paths.tenantsDir}, holding ${path.basename(paths.configFile)}`
  let dir: fs.Stats
  try {
    dir = fs.statSync(paths.tenantsDir)
  } catch {
    return undefined
  }
  const file = statOrUndefined(paths.configFile)
  // A regular file on another device than its folder is a mount point of its own (docker/podman -v FILE:…, subPath).
  if (file !== undefined && file.dev !== dir.dev) {
    return (
      `${paths.configFile} is mounted on its own: config saves cannot replace it and the database would be written ` +
      `outside the mount. In a container, ${fix} (not the single file).`
    )
  }
  try {
    fs.accessSync(paths.tenantsDir, fs.constants.W_OK | fs.constants.X_OK)
  } catch (err) {
    return (
      `${paths.tenantsDir} is not writable by ${who} (${code(err)}); it holds the tenant's database and config saves. ` +
      `In a container, ${fix}; on a server, give the folder to the user the tenant runs as.`
    )
  }
  for (const f of [paths.configFile, paths.dbFile]) {
    try {
      fs.accessSync(f, fs.constants.R_OK | fs.constants.W_OK)
    } catch (err) {
      if (code(err) === 'ENOENT') continue
      const st = statOrUndefined(f)
      const owner = st === undefined ? '' : `, owned by uid ${st.uid}, mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}`
      return `${f} cannot be read and written by ${who} (${code(err)}${owner}); give it to that user (chown) or ${fix}.`
    }
  }
  return undefined
}

function statOrUndefined (file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file)
  } catch {
    return undefined
  }
}

const code = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err)
