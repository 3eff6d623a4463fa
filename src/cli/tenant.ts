/** `tenant <command>`: the operator's commands (npm run tenant:add 6000 …), one file each in cli/tenant/. */
import { addCommand } from './tenant/add.js'
import { backupCommand } from './tenant/backup.js'
import { checkCommand } from './tenant/check.js'
import type { TenantCommand } from './tenant/command.js'
import { ecosystemCommand } from './tenant/ecosystem.js'
import { keyCommand } from './tenant/key.js'
import { listCommand } from './tenant/list.js'
import { prometheusCommand } from './tenant/prometheus.js'
import { proxyCommand } from './tenant/proxy.js'
import { reloadCommand } from './tenant/reload.js'
import { removeCommand } from './tenant/remove.js'
import { restoreCommand } from './tenant/restore.js'

export const COMMANDS: readonly TenantCommand[] = [addCommand, reloadCommand, listCommand, checkCommand, keyCommand, removeCommand, backupCommand, restoreCommand, ecosystemCommand, prometheusCommand, proxyCommand]

const out = (s = ''): void => { process.stdout.write(s + '\n') }

export const USAGE = `usage:\n${COMMANDS.map((c) => `  npm run tenant:${c.usage}`).join('\n')}`

export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  const command = COMMANDS.find((c) => c.name === name)
  if (!command) {
    out(USAGE)
    return name === undefined || name === 'help' ? 0 : 2
  }
  return command.run(rest, out)
}
