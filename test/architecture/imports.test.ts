/**
 * The import directions of docs/architecture.md, checked on the source: the
 * collector's areas import only their own layer and the layers below; protocol/
 * imports nothing of ours; agent/ and collector/ never import each other (nor
 * bench/, scripts/ or test/); probes return the agent's own sample type and never
 * touch protocol/; the dashboard takes wire and API types only as types.
 */
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..', '..')

/** The collector's layers, lowest first. Areas of one layer may import each other. */
export const LAYERS: readonly string[][] = [
  ['core'],
  ['store'],
  ['audit'],
  ['auth', 'agents'],
  ['ingest', 'machines'],
  ['detect'],
  ['incidents', 'kb', 'notify'],
  ['live', 'ops'],
  ['(root)']
]

interface Import { from: string, to: string, typeOnly: boolean, line: number }

function sources (dir: string): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name)
    if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'dist') out.push(...sources(rel)) } else if (/\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel)
  }
  return out
}

/** Relative imports and re-exports of a file (static and dynamic), resolved to repository paths. */
export function importsOf (file: string, text = fs.readFileSync(path.join(ROOT, file), 'utf8')): Import[] {
  const out: Import[] = []
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    const spec = m[3] ?? m[4]
    const line = text.slice(0, m.index).split('\n').length + (text[m.index] === '\n' ? 1 : 0)
    out.push({ from: file, to: path.normalize(path.join(path.dirname(file), spec)), typeOnly: m[2] !== undefined, line })
  }
  return out
}

/** The collector area of a path under collector/ ('(root)' for collector/*.ts). */
function areaOf (p: string): string {
  const parts = p.split(path.sep)
  return parts.length > 2 ? parts[1] : '(root)'
}

function layerOf (area: string): number {
  return LAYERS.findIndex(l => l.includes(area))
}

const top = (p: string): string => p.split(path.sep)[0]

t.test('every collector area is placed in a layer', async t => {
  const areas = new Set(sources('collector').map(areaOf))
  t.same([...areas].filter(a => layerOf(a) === -1), [], `areas missing from LAYERS: add them to docs/architecture.md and here`)
})

t.test('collector areas import their own layer and the layers below, never above', async t => {
  const up: string[] = []
  let checked = 0
  for (const file of sources('collector')) {
    const from = areaOf(file)
    for (const i of importsOf(file)) {
      if (top(i.to) !== 'collector') continue
      checked++
      const to = areaOf(i.to)
      if (layerOf(to) > layerOf(from)) up.push(`${file}:${i.line} (${from}) imports ${i.to} (${to}, a higher layer)`)
    }
  }
  t.ok(checked > 300, `${checked} imports between collector modules read`)
  t.same(up, [], 'no import goes up the plan')
})

t.test('protocol/, agent/ and collector/ keep their borders', async t => {
  const crossed: string[] = []
  const allowed: Record<string, string[]> = {
    protocol: ['protocol'],
    agent: ['agent', 'protocol'],
    collector: ['collector', 'protocol']
  }
  for (const dir of Object.keys(allowed)) {
    for (const file of sources(dir)) {
      for (const i of importsOf(file)) {
        if (!allowed[dir].includes(top(i.to))) crossed.push(`${file}:${i.line} imports ${i.to}`)
      }
    }
  }
  t.same(crossed, [], 'protocol imports nothing of ours; agent and collector only protocol beside themselves')
})

t.test('probes return the agent\'s own sample type: no probe imports protocol/', async t => {
  const wire = sources(path.join('agent', 'probes')).flatMap(f => importsOf(f).filter(i => top(i.to) === 'protocol').map(i => `${f}:${i.line}`))
  t.same(wire, [], 'the agent alone maps samples to the wire (agent/wire.ts)')
})

t.test('the dashboard takes protocol and API types only as types (its bundle holds none of the collector)', async t => {
  const values: string[] = []
  for (const file of sources(path.join('dashboards', 'src'))) {
    for (const i of importsOf(file)) {
      if (top(i.to) !== 'dashboards' && !i.typeOnly) values.push(`${file}:${i.line} imports ${i.to} as a value`)
    }
  }
  t.same(values, [], 'only `import type` / `export type` across the border')
})

t.test('the import reader sees what it must (a check that cannot miss an import)', async t => {
  const sample = [
    "import { a } from '../store/x.js'",
    "import type { B } from './y.js'",
    "export { c } from '../../protocol/index.js'",
    "export type { D } from '../live/model.js'",
    "const m = await import('../ops/routes.js')",
    "import fs from 'node:fs'",
    "import {\n  e,\n  f\n} from '../detect/engine.js'"
  ].join('\n')
  const found = importsOf(path.join('collector', 'ingest', 'sample.ts'), sample)
  t.same(found.map(i => [i.to, i.typeOnly]), [
    [path.join('collector', 'store', 'x.js'), false],
    [path.join('collector', 'ingest', 'y.js'), true],
    ['protocol/index.js', false],
    [path.join('collector', 'live', 'model.js'), true],
    [path.join('collector', 'ops', 'routes.js'), false],
    [path.join('collector', 'detect', 'engine.js'), false]
  ])
})

t.test('the collector\'s tests mirror its folders (cross-cutting suites live in test/security, test/e2e, test/sim)', async t => {
  // budgets/: the bounds of every area, each tested at its bound (docs/security.md)
  const crossCutting = new Set(['budgets'])
  const strays = fs.readdirSync(path.join(ROOT, 'test', 'collector'), { withFileTypes: true })
    .filter(e => e.isDirectory() && !crossCutting.has(e.name) && !fs.existsSync(path.join(ROOT, 'collector', e.name)))
    .map(e => `test/collector/${e.name}`)
  t.same(strays, [], 'every test/collector/<area> names a collector/<area>')
  const loose = fs.readdirSync(path.join(ROOT, 'test', 'collector')).filter(n => n.endsWith('.test.ts') && n !== 'plugins.test.ts')
  t.same(loose, [], 'area tests sit in their area\'s folder (plugins.test.ts is about the app as a whole)')
})
