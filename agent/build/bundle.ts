/**
 * The one esbuild configuration of the agent: the single-file build
 * (build-sea.ts) and the footprint benchmark (bench/agent-footprint.ts) both
 * bundle with it, so the benchmark measures what a fleet machine runs.
 */
import path from 'node:path'
import { build, type BuildOptions } from 'esbuild'

const ROOT = path.resolve(import.meta.dirname, '..', '..')

export function agentBundleOptions (outfile: string, platform: NodeJS.Platform = process.platform): BuildOptions {
  return {
    entryPoints: [path.join(ROOT, 'agent', 'build', 'sea-entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    // CommonJS has no import.meta.url (main.ts makes a require from it to ask node:sea).
    banner: { js: "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    // ws tries optional native speed-ups (bufferutil, utf-8-validate) unless told not to; a SEA
    // cannot load them and warns on each attempt, so turn the attempts off at build time.
    define: { 'import.meta.url': '__import_meta_url', 'process.env.WS_NO_BUFFER_UTIL': '"1"', 'process.env.WS_NO_UTF_8_VALIDATE': '"1"' },
    external: ['bufferutil', 'utf-8-validate'],
    // The Linux probes read /proc and /sys and never call systeminformation (its ~720 kB of
    // code would only sit in memory); the build is per OS, so the Linux one leaves it out.
    ...(platform === 'linux' ? { alias: { systeminformation: path.join(ROOT, 'agent', 'probes', 'si-absent.ts') } } : {}),
    logLevel: 'warning'
  }
}

export async function bundleAgent (outfile: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  await build(agentBundleOptions(outfile, platform))
}
