// The HTTP API as a client sees it — every path, method, parameter, body and response
// schema in /docs — compared with the recorded document, so a change of layout or of the
// library that writes /docs cannot change the API unnoticed. After a deliberate API
// change: VIGIE_RECORD_API=1 npx tap test/collector/ops/api-golden.test.ts, and review the diff.
import t from 'tap'
import fs from 'node:fs'
import { testApp } from '../../helpers/app.js'
import { apiShape } from '../../helpers/openapi-shape.js'

const GOLDEN = new URL('../../fixtures/collector/api-golden.json', import.meta.url)

t.test('the API document matches the recorded one', async (t) => {
  const a = await testApp()
  t.teardown(a.close)
  const res = await a.app.inject({ url: '/docs', headers: { authorization: `Bearer ${a.adminToken}` } })
  t.equal(res.statusCode, 200)
  const shape = apiShape(res.json())
  if (process.env.VIGIE_RECORD_API === '1') fs.writeFileSync(GOLDEN, JSON.stringify(shape, null, 1) + '\n')
  const golden = JSON.parse(fs.readFileSync(GOLDEN, 'utf8')) as Record<string, unknown>
  t.same(Object.keys(shape), Object.keys(golden), 'the same routes')
  for (const key of Object.keys(golden)) t.same(shape[key], golden[key], key)
  t.ok(Object.keys(golden).length >= 58, 'every route of the API is recorded')
})
