/** What goes into the single-file agent: the footprint depends on leaving out what it never runs. */
import path from 'node:path'
import os from 'node:os'
import t from 'tap'
import { build } from 'esbuild'
import { agentBundleOptions } from '../../agent/build/bundle.js'

async function inputs (platform: NodeJS.Platform): Promise<string[]> {
  const r = await build({ ...agentBundleOptions(path.join(os.tmpdir(), 'vigie-agent-bundle-test.cjs'), platform), write: false, metafile: true, logLevel: 'silent' })
  return Object.keys(r.metafile.inputs)
}
const has = (files: string[], pkg: string): boolean => files.some(f => f.includes(`node_modules/${pkg}/`))

t.test('the Linux agent bundle holds no library it does not run', async t => {
  const files = await inputs('linux')
  t.notOk(has(files, 'typebox'), 'no TypeBox: the collector validates, the agent only needs types and three values (agent/wire.ts)')
  t.notOk(has(files, 'node-cron'), 'no node-cron (agent/scheduler.ts)')
  t.notOk(has(files, 'pino'), 'no pino (agent/log.ts)')
  t.notOk(has(files, 'systeminformation'), 'no systeminformation: Linux probes read /proc and /sys')
  t.ok(has(files, 'ws'), 'the WebSocket client is in')
})

t.test('the macOS and Windows bundles keep systeminformation for their probes', async t => {
  t.ok(has(await inputs('darwin'), 'systeminformation'))
  t.ok(has(await inputs('win32'), 'systeminformation'))
})
