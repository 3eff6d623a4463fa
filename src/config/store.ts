/** The live config of one tenant: the typed object, its file, and atomic edits that take effect at once. */
import fs from 'node:fs'
import { updateEnvText, verifyEnvEdit, writeFileAtomic } from './env-file.js'
import { parseTenantConfig } from './load.js'
import { CONFIG_KEYS, SECRET_KEYS, type ConfigKey, type TenantConfig } from './schema.js'

export type ConfigListener = (next: TenantConfig, previous: TenantConfig, changedKeys: ConfigKey[]) => void

export class ConfigStore {
  #config: TenantConfig
  #secretsOf: TenantConfig | undefined
  #secrets: readonly string[] = []
  readonly #file: string | undefined
  readonly #listeners = new Set<ConfigListener>()
  /** Bumped on every change; lets in-flight work tell that the config moved under it. */
  #generation = 0

  /** `file` undefined = in-memory only (tests). */
  constructor (config: TenantConfig, file?: string) {
    this.#config = config
    this.#file = file
  }

  get (): TenantConfig {
    return this.#config
  }

  get generation (): number {
    return this.#generation
  }

  get file (): string | undefined {
    return this.#file
  }

  onChange (listener: ConfigListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Secret values currently in force (for log scrubbing). */
  /** The same array until the config changes (every log line asks; the masking keeps its work per array). */
  secrets (): readonly string[] {
    if (this.#secretsOf !== this.#config) {
      this.#secretsOf = this.#config
      this.#secrets = Object.freeze(SECRET_KEYS.map((k) => String(this.#config[k] ?? '')).filter((v) => v.length > 0))
    }
    return this.#secrets
  }

  /**
   * Validate and persist changes: the file is rewritten atomically (temp + fsync + rename, the previous file kept as a timestamped .bak-<time> copy) after the
   * whole new file, read back from disk, is checked to differ from the old one in exactly these keys;
   * then the in-memory config switches and listeners run. Returns the keys whose value changed.
   * Synchronous on purpose: two saves can never interleave inside one process.
   */
  update (changes: Partial<Record<ConfigKey, string>>): ConfigKey[] {
    const previous = this.#config
    const changed = (Object.keys(changes) as ConfigKey[]).filter((k) => String(previous[k] ?? '') !== changes[k])
    if (changed.length === 0) return []
    let next: TenantConfig
    if (this.#file) {
      const text = fs.readFileSync(this.#file, 'utf8')
      const updates = Object.fromEntries(Object.entries(changes).filter((e): e is [string, string] => e[1] !== undefined))
      const newText = updateEnvText(text, updates)
      next = parseTenantConfig(newText, this.#file, previous.PORT).config
      // The bytes on disk, read back before the rename, must say the same: whole file, only these keys changed.
      writeFileAtomic(this.#file, newText, 0o600, true, (written) => {
        verifyEnvEdit(text, written, updates)
        parseTenantConfig(written, this.#file!, previous.PORT)
      })
    } else {
      const merged: Record<string, string> = {}
      for (const [k, v] of Object.entries(previous)) merged[k] = Array.isArray(v) ? v.join(',') : v === undefined ? '' : String(v)
      Object.assign(merged, changes)
      const text = updateEnvText('', merged)
      next = parseTenantConfig(text, '(memory)', previous.PORT).config
    }
    this.#config = next
    this.#generation++
    for (const listener of this.#listeners) listener(next, previous, changed)
    return changed
  }

  /**
   * Re-read the file after an operator command rewrote it (tenant:key --rotate sends SIGHUP) and switch to it, with
   * listeners run as for a save. An invalid file throws and the config in force stays. Returns the changed keys.
   */
  reload (): ConfigKey[] {
    if (!this.#file) return []
    const previous = this.#config
    const next = parseTenantConfig(fs.readFileSync(this.#file, 'utf8'), this.#file, previous.PORT).config
    const changed = CONFIG_KEYS.filter((k) => String(previous[k] ?? '') !== String(next[k] ?? ''))
    if (changed.length === 0) return []
    this.#config = next
    this.#generation++
    for (const listener of this.#listeners) listener(next, previous, changed)
    return changed
  }
}
