/** The tenant config the token bench uses: pointed at the sandbox process, built the way `tenant add --sandbox` builds it. */
import { sandboxSettings } from '../../src/cli/tenant/add.js'
import { updateEnvText } from '../../src/config/env-file.js'
import { parseTenantConfig } from '../../src/config/load.js'
import type { TenantConfig } from '../../src/config/schema.js'

export function benchTenantConfig (sandboxUrl: string, port = 6999): TenantConfig {
  const text = updateEnvText('', {
    PORT: String(port),
    TENANT_NAME: 'bench-token',
    API_KEY: 'bench-api-key-0123456789abcdef0123456789',
    HOST: '127.0.0.1',
    V8_MAX_RPS: '1000',
    ...sandboxSettings(sandboxUrl),
  })
  return parseTenantConfig(text, '(bench)', port).config
}
