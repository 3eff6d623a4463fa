/** The one error type every layer throws: a stable code, an HTTP status and a Portuguese message safe to show. */
export class AppError extends Error {
  override name = 'AppError'
  constructor (
    /** Stable, machine-readable code (snake_case), e.g. `cpf_invalido`, `upstream_timeout`. */
    readonly code: string,
    /** Message for the API caller, in Portuguese; never holds a secret. */
    message: string,
    readonly statusCode: number,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown }
  ) {
    super(message, options)
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>): AppError =>
  new AppError(code, message, 400, details)
export const notFound = (code: string, message: string, details?: Record<string, unknown>): AppError =>
  new AppError(code, message, 404, details)
export const conflict = (code: string, message: string, details?: Record<string, unknown>): AppError =>
  new AppError(code, message, 409, details)
export const unprocessable = (code: string, message: string, details?: Record<string, unknown>): AppError =>
  new AppError(code, message, 422, details)

/** `8 MB`, `100 KB`, `1,5 MB`: a size (a body limit, a file) as a person reads it in a message. */
export function bytesInWords (bytes: number): string {
  const [unit, size] = bytes >= 1024 * 1024 ? ['MB', bytes / (1024 * 1024)] : ['KB', bytes / 1024]
  return `${Number.isInteger(size) ? size : size.toFixed(1).replace('.', ',')} ${unit}`
}
