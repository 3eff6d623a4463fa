/**
 * The token bench's "restart": a brand-new process opens the same SQLite file, wires the real services and asks
 * for a token N times at once. `node token-probe.js --db FILE --sandbox URL --n 200 --out RESULT.json`.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { ConfigStore } from '../../src/config/store.js'
import { openDatabase } from '../../src/db/database.js'
import { createServices } from '../../src/tenant.js'
import { benchTenantConfig } from '../lib/token-config.js'

const { values } = parseArgs({ options: { db: { type: 'string' }, sandbox: { type: 'string' }, n: { type: 'string' }, out: { type: 'string' } } })
if (!values.db || !values.sandbox || !values.out) throw new Error('usage: token-probe --db FILE --sandbox URL --n N --out FILE')
const db = openDatabase(values.db)
const services = createServices({ config: new ConfigStore(benchTenantConfig(values.sandbox)), db, logger: pino({ level: 'silent' }) })
const started = performance.now()
const tokens = await Promise.all(Array.from({ length: Number(values.n ?? 200) }, () => services.tokens.get()))
const ms = performance.now() - started
// Only hashes leave the process: a token is a secret even in a bench.
const distinct = new Set(tokens.map((t) => createHash('sha256').update(t).digest('hex').slice(0, 12)))
fs.writeFileSync(values.out, JSON.stringify({ requests: tokens.length, distinct: [...distinct], ms }))
await services.close()
db.close()
