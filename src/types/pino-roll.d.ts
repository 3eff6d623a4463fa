/** Types for pino-roll 4 (it ships none): an async factory returning a SonicBoom stream. */
declare module 'pino-roll' {
  import type SonicBoom from 'sonic-boom'
  interface PinoRollOptions {
    file: string | (() => string)
    size?: string | number
    frequency?: 'daily' | 'hourly' | number
    extension?: string
    symlink?: boolean
    limit?: { count?: number; removeOtherLogFiles?: boolean }
    dateFormat?: string
    mkdir?: boolean
    minLength?: number
    sync?: boolean
  }
  export default function pinoRoll (options: PinoRollOptions): Promise<SonicBoom>
}
