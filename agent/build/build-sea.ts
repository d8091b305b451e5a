/**
 * Builds the agent as one executable with no node_modules (Node single
 * executable application): esbuild bundles agent/ to one CommonJS file, Node
 * turns it into a blob, postject injects the blob into a copy of this node
 * binary. Usage: `npx tsx agent/build/build-sea.ts [--out FILE]`.
 * The agent has no native modules, which is what makes this possible.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { bundleAgent } from './bundle.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const OUT_DIR = path.join(ROOT, 'dist', 'agent-sea')
/** Node's fixed fuse string that marks a binary as carrying a SEA blob. */
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'

export interface SeaBuild { binary: string, bundleBytes: number, binaryBytes: number, ms: number }

function postjectCommand (): { file: string, args: string[] } {
  const local = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'postject.cmd' : 'postject')
  if (fs.existsSync(local)) return { file: local, args: [] }
  // Not a dependency yet: npx fetches it once into its own cache (not node_modules).
  return { file: process.platform === 'win32' ? 'npx.cmd' : 'npx', args: ['--yes', 'postject@1.0.0-alpha.6'] }
}

export async function buildSea (opts: { out?: string, log?: (s: string) => void } = {}): Promise<SeaBuild> {
  const started = Date.now()
  const log = opts.log ?? ((s: string) => { process.stderr.write(s + '\n') })
  fs.mkdirSync(OUT_DIR, { recursive: true })
  const bundle = path.join(OUT_DIR, 'vigie-agent.cjs')
  await bundleAgent(bundle)
  log(`bundled ${path.relative(ROOT, bundle)} (${fs.statSync(bundle).size} bytes)`)
  const config = path.join(ROOT, 'agent', 'build', 'sea-config.json')
  execFileSync(process.execPath, ['--experimental-sea-config', config], { cwd: path.dirname(config), stdio: ['ignore', 'ignore', 'inherit'] })
  const blob = path.join(OUT_DIR, 'sea-prep.blob')
  const binary = opts.out ?? path.join(OUT_DIR, process.platform === 'win32' ? 'vigie-agent.exe' : 'vigie-agent')
  fs.rmSync(binary, { force: true })
  fs.copyFileSync(process.execPath, binary)
  fs.chmodSync(binary, 0o755)
  if (process.platform === 'darwin') execFileSync('codesign', ['--remove-signature', binary])
  const pj = postjectCommand()
  execFileSync(pj.file, [...pj.args, binary, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE, ...(process.platform === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : [])], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (process.platform === 'darwin') execFileSync('codesign', ['--sign', '-', binary])
  const result = { binary, bundleBytes: fs.statSync(bundle).size, binaryBytes: fs.statSync(binary).size, ms: Date.now() - started }
  log(`built ${binary} (${(result.binaryBytes / 1e6).toFixed(1)} MB) in ${(result.ms / 1000).toFixed(1)} s`)
  return result
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } })
  buildSea({ out: values.out }).catch((err: unknown) => {
    process.stderr.write(`build-sea: ${(err as Error).message}\n`)
    process.exit(1)
  })
}
