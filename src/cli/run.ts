/** How an operator command runs as a program (scripts/*.js): argv in, exit code out, refusals printed as one plain line. */
import { CliError } from './errors.js'

export type CommandMain = (argv: string[]) => Promise<number>

/** Run `main` on this process's arguments and set the exit code; never throws. */
export async function runCommand (label: string, main: CommandMain, argv: string[] = process.argv.slice(2)): Promise<void> {
  try {
    process.exitCode = await main(argv)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const message = err instanceof Error ? err.message : String(err)
    if (err instanceof CliError) {
      process.stderr.write(`${message}\n`)
      process.exitCode = 1
    } else if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      // An unknown or malformed option: say which, like any command-line tool, with the usage exit code.
      process.stderr.write(`${label}: ${message}\n`)
      process.exitCode = 2
    } else {
      process.stderr.write(`${label}: error: ${message}\n`)
      process.exitCode = 1
    }
  }
}
