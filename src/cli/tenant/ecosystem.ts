/** `tenant ecosystem`: rewrite ecosystem.config.cjs from tenants/ (the generator; tenant add/remove run it too). */
import { writeEcosystem } from '../ecosystem.js'
import { defineCommand } from './command.js'

export const ecosystemCommand = defineCommand({
  name: 'ecosystem',
  usage: 'ecosystem',
  options: {},
  async run ({ root, codeDir, out }) {
    const eco = writeEcosystem(root, codeDir)
    out(`${eco.changed ? 'Wrote' : 'Unchanged:'} ${eco.file} (${eco.ports.length} tenant(s)${eco.sandboxPorts.length ? ', + sandbox' : ''}).`)
    for (const s of eco.skipped) out(`  skipped: ${s}`)
    return 0
  },
})
