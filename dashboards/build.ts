/**
 * Builds the technicians' web UI into dashboards/dist: one ESM bundle (esbuild),
 * index.html, our CSS and uPlot's CSS. `npm run build:dashboards` runs this file;
 * tests and the bench call {@link buildDashboards} when dist is missing.
 */
import { build } from 'esbuild'
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

const HERE = import.meta.dirname
/** Default output folder; the collector serves it (config `dashboardsDir`). */
export const DASHBOARDS_DIST = path.join(HERE, 'dist')

export interface BuildDashboardsOptions {
  /** output folder (default dashboards/dist) */
  outDir?: string
  /** minify the bundle (default true) */
  minify?: boolean
  /** also write app.js.map (default false; the collector serves it only with VIGIE_SOURCE_MAPS=true) */
  sourcemap?: boolean
}

/** Bundles dashboards/src into `outDir`; resolves to the output folder. */
export async function buildDashboards (opts: BuildDashboardsOptions = {}): Promise<string> {
  const outDir = opts.outDir ?? DASHBOARDS_DIST
  await rm(outDir, { recursive: true, force: true })
  await mkdir(outDir, { recursive: true })
  await build({
    entryPoints: [path.join(HERE, 'src', 'main.ts')],
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    platform: 'browser',
    minify: opts.minify ?? true,
    sourcemap: opts.sourcemap ?? false,
    outfile: path.join(outDir, 'app.js'),
    logLevel: 'warning',
    legalComments: 'none'
  })
  const require = createRequire(import.meta.url)
  const uplotCss = path.join(path.dirname(require.resolve('uplot')), 'uPlot.min.css')
  await copyFile(path.join(HERE, 'src', 'index.html'), path.join(outDir, 'index.html'))
  await copyFile(path.join(HERE, 'src', 'styles.css'), path.join(outDir, 'styles.css'))
  await copyFile(uplotCss, path.join(outDir, 'uPlot.min.css'))
  await copyFile(path.join(HERE, 'src', 'favicon.svg'), path.join(outDir, 'favicon.svg'))
  return outDir
}

/** Builds only when the output folder has no index.html (tests, bench). */
export async function ensureDashboardsBuilt (outDir: string = DASHBOARDS_DIST): Promise<string> {
  if (existsSync(path.join(outDir, 'index.html')) && existsSync(path.join(outDir, 'app.js'))) return outDir
  return await buildDashboards({ outDir })
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const started = Date.now()
  buildDashboards({ sourcemap: process.argv.includes('--sourcemap') }).then((out) => {
    process.stdout.write(`dashboards built into ${path.relative(process.cwd(), out) || out} in ${Date.now() - started} ms\n`)
  }, (err: unknown) => {
    process.stderr.write(`dashboards build failed: ${(err as Error).message}\n`)
    process.exit(1)
  })
}
