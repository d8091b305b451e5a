/**
 * A tripwire for "this code path opens no connection": while armed, every
 * net.Socket connect (net.connect, http(s).request, fetch's sockets go through
 * it too) is recorded and failed at once, before anything reaches the kernel,
 * so a test that catches a regression still sends no packet anywhere.
 */
import net from 'node:net'

export interface ConnectTripwire {
  /** every attempt, as `host:port` (or the path of a local socket) */
  readonly attempts: string[]
  restore (): void
}

export function blockConnects (): ConnectTripwire {
  const original = net.Socket.prototype.connect
  const attempts: string[] = []
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]): net.Socket {
    const a = args[0]
    const o = (Array.isArray(a) ? a[0] : a) as Record<string, unknown> | number | string
    attempts.push(typeof o === 'object' && o !== null ? (o.path !== undefined ? String(o.path) : `${String(o.host ?? 'localhost')}:${String(o.port)}`) : `${String(args[1] ?? 'localhost')}:${String(o)}`)
    process.nextTick(() => { this.destroy(Object.assign(new Error('connection blocked by the test tripwire'), { code: 'ECONNREFUSED' })) })
    return this
  } as typeof original
  return { attempts, restore: () => { net.Socket.prototype.connect = original } }
}
