/** The shape of one `tenant <command>`: its usage line, its own options (unknown ones are refused) and what it does. */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'
import { CODE_DIR } from '../../config/paths.js'

export interface CommandContext {
  /** The folder holding tenants/, logs/ and ecosystem.config.cjs (the project folder unless --root). */
  root: string
  /** The folder holding the code (bin/, dist/, node_modules/). */
  codeDir: string
  out(line?: string): void
}

export interface TenantCommand {
  name: string
  /** One or more usage lines, without the leading `npm run tenant:`. */
  usage: string
  run(argv: string[], out: (line?: string) => void): Promise<number>
}

const ROOT_OPTION = { root: { type: 'string' } } as const
type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: O & typeof ROOT_OPTION; allowPositionals: true; strict: true }>>

export function defineCommand<const O extends ParseArgsOptionsConfig> (spec: {
  name: string
  usage: string
  options: O
  run(ctx: CommandContext, values: Parsed<O>['values'], positionals: string[]): Promise<number>
}): TenantCommand {
  return {
    name: spec.name,
    usage: spec.usage,
    run: (argv, out) => {
      const { values, positionals } = parseArgs({ args: argv, options: { ...spec.options, ...ROOT_OPTION }, allowPositionals: true, strict: true })
      const root = (values as { root?: string }).root ?? CODE_DIR
      return spec.run({ root, codeDir: CODE_DIR, out }, values as Parsed<O>['values'], positionals)
    },
  }
}
