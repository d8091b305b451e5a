import t from 'tap'
import { createLogger } from '../../agent/log.js'

function capture (level: Parameters<typeof createLogger>[0]['level'], pretty = false): { lines: string[], log: ReturnType<typeof createLogger> } {
  const lines: string[] = []
  return { lines, log: createLogger({ level, name: 'vigie-agent', pretty, write: l => { lines.push(l) }, now: () => 1_700_000_000_000 }) }
}

t.test('JSON lines with pino\'s fields and level numbers', async t => {
  const { lines, log } = capture('info')
  log.info({ agentId: 'a1', spooled: 3 }, 'agent started')
  log.debug({}, 'not shown')
  log.warn({ probe: 'cpu' }, 'slow probe')
  t.equal(lines.length, 2)
  t.ok(lines.every(l => l.endsWith('\n') && !l.slice(0, -1).includes('\n')), 'one line each')
  const first = JSON.parse(lines[0]) as Record<string, unknown>
  t.same(Object.keys(first), ['level', 'time', 'pid', 'hostname', 'name', 'agentId', 'spooled', 'msg'])
  t.match(first, { level: 30, time: 1_700_000_000_000, pid: process.pid, name: 'vigie-agent', agentId: 'a1', spooled: 3, msg: 'agent started' })
  t.equal((JSON.parse(lines[1]) as { level: number }).level, 40)
})

t.test('levels filter; silent prints nothing', async t => {
  const warn = capture('warn')
  for (const l of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) warn.log[l]({}, l)
  t.same(warn.lines.map(l => (JSON.parse(l) as { msg: string }).msg), ['warn', 'error', 'fatal'])
  const silent = capture('silent')
  silent.log.fatal({}, 'x')
  t.same(silent.lines, [])
})

t.test('secrets never reach a line', async t => {
  const { lines, log } = capture('trace')
  log.info({ agentToken: 'vga_secret1', enrollToken: 'vge_secret2', token: 'secret3', res: { token: 'secret4', ok: true } }, 'x')
  const line = lines.join('')
  t.notMatch(line, /secret/)
  t.match(JSON.parse(line), { agentToken: '[redacted]', enrollToken: '[redacted]', token: '[redacted]', res: { token: '[redacted]', ok: true } })
})

t.test('errors are serialized like pino\'s err serializer', async t => {
  const { lines, log } = capture('info')
  const e = Object.assign(new TypeError('boom', { cause: new Error('root') }), { code: 'E_X' })
  log.error({ err: e }, 'collection failed')
  log.error(new Error('bare'))
  const a = JSON.parse(lines[0]) as { err: Record<string, unknown> }
  t.match(a.err, { type: 'TypeError', message: 'boom', code: 'E_X', cause: { type: 'Error', message: 'root' } })
  t.match(a.err.stack, /TypeError: boom/)
  t.match(JSON.parse(lines[1]), { err: { type: 'Error', message: 'bare' } })
})

t.test('a field that cannot be serialized does not throw into the caller', async t => {
  const { lines, log } = capture('info')
  const loop: Record<string, unknown> = {}
  loop.self = loop
  t.doesNotThrow(() => { log.warn({ loop }, 'still logged') })
  t.match(JSON.parse(lines[0]), { msg: 'still logged' })
})

t.test('pretty lines on a terminal, secrets still hidden', async t => {
  const { lines, log } = capture('info', true)
  log.info({ token: 'secret', n: 1 }, 'hello')
  t.match(lines[0], /^\[\d\d:\d\d:\d\d\] INFO \(vigie-agent\): hello token=\[redacted\] n=1\n$/)
})
