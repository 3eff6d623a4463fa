// Lint: neostandard (the shared config fastify and platformatic use) with its TypeScript rules.
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'logs/**', 'tenants/**', 'coverage/**', '.tap/**'] }),
  {
    rules: {
      // `void promise` marks a deliberate fire-and-forget; as an expression it would hide a value.
      'no-void': ['error', { allowAsStatement: true }],
      // JSON fields keep the Portuguese snake_case of the system we replace (cpf, dados_cliente, lote_id).
      camelcase: ['error', { properties: 'never', ignoreDestructuring: true, ignoreImports: true }],
    },
  },
]
