/** A config problem, always phrased as one line naming the file, the key and what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor (
    message: string,
    readonly file: string,
    readonly key?: string
  ) {
    super(message)
  }
}
