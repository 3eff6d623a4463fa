/** The error an operator command throws for a refusal it explains in one line (printed without a stack or prefix). */
export class CliError extends Error {
  override name = 'CliError'
}
