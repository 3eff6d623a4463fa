/** The port argument every tenant command takes: a number in 1024–65535, or a clear refusal. */
import { CliError } from '../errors.js'

export function parsePort (raw: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new CliError(`port "${raw}" is not a number`)
  const port = Number(raw)
  if (port < 1024 || port > 65535) throw new CliError(`port ${port} is outside 1024–65535`)
  return port
}

/** The first positional as a port; `example` completes the refusal when it is missing. */
export function portArgument (positionals: string[], command: string, example = ''): number {
  const raw = positionals[0]
  if (raw === undefined) throw new CliError(`tenant:${command} needs a port, e.g. npm run tenant:${command} 6000${example}`)
  return parsePort(raw)
}
