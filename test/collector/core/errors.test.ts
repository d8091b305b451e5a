import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { ERROR_CODES } from '../../../collector/core/errors.js'

t.test('docs/errors.md lists every error code the collector can return', async t => {
  const doc = fs.readFileSync(path.resolve(import.meta.dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8')
  for (const [code, def] of Object.entries(ERROR_CODES)) {
    const row = doc.split('\n').find(l => l.includes(`\`${code}\``))
    t.ok(row, `${code} is documented`)
    t.ok(row?.includes(String(def.statusCode)), `${code} row gives status ${def.statusCode}`)
  }
  const documented = [...doc.matchAll(/`(VIGIE_ERR_[A-Z_]+)`/g)].map(m => m[1])
  for (const code of documented) {
    if (code === 'VIGIE_ERR_CONFIG') continue
    t.ok(code in ERROR_CODES, `${code} in the doc exists in code`)
  }
})
