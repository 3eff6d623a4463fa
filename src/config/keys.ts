/** The secrets this project generates (API keys, the console's admin key, callback secrets) and how they are named without being shown. */
import { createHash, randomBytes } from 'node:crypto'

/** 32 random bytes as base64url: an API key, an admin key or a callback secret. */
export const newKey = (): string => randomBytes(32).toString('base64url')

/** First 16 hex digits of the key's SHA-256: enough to tell keys apart, useless to log in with. */
export const keyFingerprint = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 16)
