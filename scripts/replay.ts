/**
 * Replay recorded series through the detection engine (the collector's code path).
 *
 *   replay --nab DIR --out OUT
 *       every DIR/data/<subset>/*.csv (NAB `timestamp,value`) → OUT/<subset>/<name>.jsonl,
 *       one {"timestamp","alert"} per row; alert = 1 where a new finding opened.
 *       Never reads labels.
 *   replay --csv FILE --machine M --metric NAME
 *       one CSV as machine M's series NAME (a series key, e.g. 'fs.used_pct{mount="/"}');
 *       prints every finding as a JSON line.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { DetectionEngine } from '../collector/detect/engine.js'
import { listNabFiles, nabTimestampMs, parseNabCsv, readNabSeries } from '../bench/lib/nab/dataset.js'
import { replayNab, replayPoints } from '../bench/lib/nab/replay.js'

const USAGE = 'usage: replay --nab DIR --out OUT | replay --csv FILE --machine M --metric NAME'

function main (): number {
  const { values: a } = parseArgs({
    options: { nab: { type: 'string' }, out: { type: 'string' }, csv: { type: 'string' }, machine: { type: 'string' }, metric: { type: 'string' }, help: { type: 'boolean' } }
  })
  if (a.help === true) { console.log(USAGE); return 0 }
  if (a.nab !== undefined && a.out !== undefined) {
    let alerts = 0
    const files = listNabFiles(a.nab)
    for (const rel of files) {
      const s = readNabSeries(a.nab, rel)
      const al = replayNab(s)
      const lines: string[] = []
      for (let i = 0; i < al.length; i++) { lines.push(JSON.stringify({ timestamp: s.timestamps[i], alert: al[i] })); alerts += al[i] }
      const outFile = path.join(a.out, s.subset, `${s.name}.jsonl`)
      fs.mkdirSync(path.dirname(outFile), { recursive: true })
      fs.writeFileSync(outFile, lines.length > 0 ? lines.join('\n') + '\n' : '')
    }
    console.error(`replay: ${files.length} files, ${alerts} alerts → ${a.out}`)
    return 0
  }
  if (a.csv !== undefined && a.machine !== undefined && a.metric !== undefined) {
    const { timestamps, values } = parseNabCsv(fs.readFileSync(a.csv, 'utf8'))
    const times = timestamps.map((t) => /[zZ]|[+-]\d\d:?\d\d$/.test(t) ? Date.parse(t) : nabTimestampMs(t))
    replayPoints(new DetectionEngine(), a.machine, a.metric, times, values, (f) => { process.stdout.write(JSON.stringify(f) + '\n') })
    return 0
  }
  console.error(USAGE)
  return 2
}

// a closed pipe (`| head`) ends the output quietly
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); throw err })
process.exitCode = main()
