/**
 * Issue 14, item 7: the password policy (12 to 1024 characters, not only white
 * space) wherever a password is set: admin create, admin change, `create-user`.
 * Finding: ten spaces were accepted as an admin password.
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { tempDir } from '../helpers/temp.js'
import { login, closeSettled } from './helpers.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')

t.test('admin API: passwords at the bounds, white space refused with VIGIE_ERR_PASSWORD_POLICY', async t => {
  const h = await testApp()
  t.teardown(async () => { await closeSettled(h) })
  const auth = { authorization: `Bearer ${h.adminToken}` }
  let n = 0
  const create = (password: string) => h.app.inject({ method: 'POST', url: '/api/v1/admin/users', headers: auth, payload: { username: `user${n++}`, role: 'admin', password } })

  const tenSpaces = await create(' '.repeat(10))
  t.equal(tenSpaces.statusCode, 400, 'ten spaces (the finding) are refused')
  t.equal(tenSpaces.json().code, 'VIGIE_ERR_PASSWORD_POLICY')
  t.equal(tenSpaces.json().path, '/password')
  for (const ws of [' '.repeat(12), '\t'.repeat(20), ' \n \u00a0 \u2003 '.repeat(4)]) {
    const r = await create(ws)
    t.equal(r.statusCode, 400, `only white space (${JSON.stringify(ws).slice(0, 20)}…) is refused at any length`)
    t.match(r.json().message, /white space/)
  }
  const short = await create('a'.repeat(11) + '')
  t.equal(short.statusCode, 400, '11 characters: one under the minimum')
  t.equal(short.json().code, 'VIGIE_ERR_PASSWORD_POLICY')
  t.match(short.json().message, /at least 12 characters/)
  t.equal((await create('abcdefghijk1')).statusCode, 201, '12 characters: at the minimum')
  const atMax = 'x'.repeat(1023) + 'y'
  const created = await create(atMax)
  t.equal(created.statusCode, 201, '1024 characters: at the maximum')
  const long = await create('x'.repeat(1025))
  t.equal(long.statusCode, 400, '1025 characters: one over the maximum')
  t.equal(long.json().code, 'VIGIE_ERR_PASSWORD_POLICY')
  t.match(long.json().message, /at most 1024 characters/)
  t.equal((await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: created.json().user.username, password: atMax } })).statusCode, 200, 'the 1024-character password signs in')

  const id = created.json().user.id as string
  const change = (password: string) => h.app.inject({ method: 'PATCH', url: `/api/v1/admin/users/${id}`, headers: auth, payload: { password } })
  const spaces = await change(' '.repeat(16))
  t.equal(spaces.statusCode, 400, 'a password change to white space is refused')
  t.equal(spaces.json().code, 'VIGIE_ERR_PASSWORD_POLICY')
  t.equal((await change('y'.repeat(1025))).json().code, 'VIGIE_ERR_PASSWORD_POLICY')
  await login(h.app, created.json().user.username, atMax)
  t.pass('a refused change leaves the old password working')
  t.equal((await change('a new good passphrase')).statusCode, 200)
})

t.test('create-user refuses a white-space password from stdin', async t => {
  const dataDir = tempDir(t)
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'collector', 'main.ts'), 'create-user', '--username', 'ops-admin'],
    { cwd: ROOT, env: { ...process.env, VIGIE_DATA_DIR: dataDir }, input: ' '.repeat(14) + '\n', encoding: 'utf8' })
  t.equal(r.status, 78, 'exits with the configuration status')
  t.match(r.stderr, /password from stdin refused: a password cannot be only spaces/)
})
