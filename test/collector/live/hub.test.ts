/**
 * The live hub isolates failures (one event, one client) and enforces its budgets:
 * sockets per principal and in total, and unsent bytes per socket.
 */
import t from 'tap'
import { EventEmitter } from 'node:events'
import type { WebSocket } from 'ws'
import { LIVE_FRAME_BYTES, LiveHub } from '../../../collector/live/hub.js'
import type { LiveEvent } from '../../../collector/ingest/events.js'

class FakeSocket extends EventEmitter {
  sent: string[] = []
  bufferedAmount = 0
  closedWith: number | undefined
  terminated = false
  failSend = false
  send (data: string, cb?: (err?: Error) => void): void {
    if (this.failSend) throw new Error('send failed')
    this.sent.push(data); cb?.()
  }

  close (code: number): void { this.closedWith = code; this.emit('close') }
  terminate (): void { this.terminated = true; this.emit('close') }
}
const fake = (): FakeSocket & WebSocket => new FakeSocket() as unknown as FakeSocket & WebSocket

t.test('an event that cannot be serialised is dropped alone; a failing client is dropped alone', async t => {
  const errors: string[] = []
  const hub = new LiveHub({ flushMs: 5, onError: (what) => { errors.push(what) } })
  t.teardown(() => { hub.close() })
  const a = fake(); const b = fake()
  hub.add(a, 'user:a'); hub.add(b, 'user:b')
  const bad = { type: 'machine', machine: { n: 10n } } as unknown as LiveEvent
  hub.publish(bad)
  hub.publish({ type: 'machine', machine: { id: 'm1' } } as unknown as LiveEvent)
  b.failSend = true
  t.doesNotThrow(() => { hub.flush() }, 'flush never throws')
  t.equal(errors.length, 2, 'both failures reported')
  t.equal(a.sent.length, 1)
  const frame = JSON.parse(a.sent[0])
  t.equal(frame.events.length, 1, 'the good event reached the healthy client')
  t.equal(frame.events[0].machine.id, 'm1')
  t.ok(b.terminated, 'the client whose send failed is dropped')
  t.equal(hub.size, 1)
})

t.test('sockets per principal and in total: at the bound accepted, one over refused', async t => {
  const hub = new LiveHub({ maxPerPrincipal: 2, maxClients: 3 })
  t.teardown(() => { hub.close() })
  t.type(hub.add(fake(), 'user:a'), 'object')
  const second = fake()
  t.type(hub.add(second, 'user:a'), 'object', 'the 2nd socket of a user fits')
  t.match(hub.add(fake(), 'user:a') as string, /maximum of 2/, 'the 3rd is refused')
  t.type(hub.add(fake(), 'user:b'), 'object', 'another user still fits')
  t.match(hub.add(fake(), 'user:c') as string, /maximum of 3 live sockets/, 'the total bound holds')
  second.close(1000)
  t.type(hub.add(fake(), 'user:a'), 'object', 'a closed socket frees its place')
})

t.test('a socket that does not read is cut off once over the buffer bound', async t => {
  const hub = new LiveHub({ maxBufferedBytes: 1024 * 1024 })
  t.teardown(() => { hub.close() })
  const slow = fake(); const ok = fake()
  hub.add(slow, 'user:a'); hub.add(ok, 'user:b')
  slow.bufferedAmount = 1024 * 1024
  hub.publish({ type: 'machine', machine: { id: 'm1' } } as unknown as LiveEvent)
  hub.flush()
  t.notOk(slow.terminated, 'at the bound: still served')
  t.equal(slow.sent.length, 1)
  slow.bufferedAmount = 1024 * 1024 + 1
  hub.publish({ type: 'machine', machine: { id: 'm1' } } as unknown as LiveEvent)
  hub.flush()
  t.ok(slow.terminated, 'one byte over: cut off')
  t.equal(ok.sent.length, 2, 'the reading client keeps getting events')
})

t.test('a queue that reaches one frame\'s worth of events goes out at once, after the buffer check', async t => {
  const drops: Array<{ reason: string, bufferedBytes: number }> = []
  const hub = new LiveHub({ flushMs: 60_000, maxBufferedBytes: 1024 * 1024, onDrop: (reason, info) => { drops.push({ reason, bufferedBytes: info.bufferedBytes }) } })
  t.teardown(() => { hub.close() })
  const slow = fake(); const ok = fake()
  hub.add(slow, 'user:a'); hub.add(ok, 'user:b')
  const event = { type: 'machine', machine: { id: 'm1', pad: 'x'.repeat(10_000) } } as unknown as LiveEvent
  const size = JSON.stringify(event).length
  const perFrame = Math.ceil(LIVE_FRAME_BYTES / size)
  for (let i = 0; i < perFrame - 1; i++) hub.publish(event)
  t.equal(ok.sent.length, 0, 'below a frame\'s worth: waits for the timer')
  hub.publish(event)
  t.equal(ok.sent.length, 1, 'a frame\'s worth: sent without waiting for the timer')
  t.equal(JSON.parse(ok.sent[0]).events.length, perFrame)
  slow.bufferedAmount = 1024 * 1024 + 1
  for (let i = 0; i < perFrame; i++) hub.publish(event)
  t.ok(slow.terminated, 'a socket over the bound is cut off at its next frame, not at the next tick')
  t.same(drops, [{ reason: 'too slow: socket buffer full', bufferedBytes: 1024 * 1024 + 1 }], 'the drop is reported with what it held')
  t.equal(ok.sent.length, 2, 'the reading client got its second frame')
})
