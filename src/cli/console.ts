/** `npm run console:key [-- --rotate | --port P]`: the fleet console's admin key (logic in console-key.ts). */
import { parseArgs } from 'node:util'
import { CONSOLE_APP } from '../config/console.js'
import { CODE_DIR } from '../config/paths.js'
import { consoleKey, consoleKeyLines } from './console-key.js'
import { writeEcosystem } from './ecosystem.js'
import { CliError } from './errors.js'
import { switchRunningKey } from './key-switch.js'
import { parsePort } from './tenant/port.js'

export const USAGE = `usage:
  npm run console:key [-- --rotate]    the console's admin key: made and shown once; then its fingerprint; --rotate: a new one, shown once
                      [-- --port P]    on first use: the console's port (default 7000)`

export async function main (argv: string[], out: (line: string) => void = (l) => { process.stdout.write(`${l}\n`) }): Promise<number> {
  const [command, ...rest] = argv
  if (command !== 'key') {
    out(USAGE)
    return command === undefined || command === 'help' ? 0 : 2
  }
  const { values } = parseArgs({ args: rest, strict: true, options: { rotate: { type: 'boolean', default: false }, port: { type: 'string' }, root: { type: 'string' } } })
  const root = values.root ?? CODE_DIR
  let r: ReturnType<typeof consoleKey>
  try {
    r = consoleKey(root, { rotate: values.rotate, ...(values.port !== undefined ? { port: parsePort(values.port) } : {}) })
  } catch (err) {
    throw err instanceof CliError ? err : new CliError((err as Error).message)
  }
  for (const line of consoleKeyLines(r)) out(line)
  // The console runs under PM2 once it has its settings: the ecosystem gains its entry now.
  if (r.created) out(`${writeEcosystem(root, CODE_DIR).changed ? 'Regenerated' : 'Unchanged:'} ecosystem.config.cjs (with the console).`)
  if (!r.rotated || r.previousKey === undefined) return 0
  // The running console, if any, re-reads its file on SIGHUP (as a tenant does for tenant:key); then check it.
  return switchRunningKey({
    name: 'The console',
    app: CONSOLE_APP,
    port: r.config.PORT,
    host: r.config.HOST,
    path: '/api/tenants',
    oldKey: r.previousKey,
    newKey: r.shown!,
    restart: `npx pm2 reload ${CONSOLE_APP}`,
  }, out)
}
