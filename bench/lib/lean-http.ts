/**
 * A lean HTTP/1.1 keep-alive client for the ingest benchmarks: one request at a
 * time per connection, the request written as one string, the response read far
 * enough for its status and length. Node's http client spent ~35 µs of CPU per
 * request here; on a 2-core machine that CPU is taken from the server being
 * measured (the collector uses both cores, the bare route one), so the load
 * generator's cost skewed the ratio. This one costs a fraction of that and
 * loads both servers the same way.
 *
 * Only what the benchmarks need: a Content-Length or chunked response body,
 * which is read and dropped. Not a general client.
 */
import net from 'node:net'

const CRLF2 = Buffer.from('\r\n\r\n')

export class LeanConnection {
  readonly #socket: net.Socket
  #buf: Buffer = Buffer.alloc(0)
  #pending: { resolve: (status: number) => void, reject: (err: Error) => void } | undefined
  #closed: Error | undefined

  private constructor (socket: net.Socket) {
    this.#socket = socket
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => { this.#onData(chunk) })
    const fail = (err: Error): void => {
      this.#closed ??= err
      const p = this.#pending
      this.#pending = undefined
      p?.reject(err)
    }
    socket.on('error', fail)
    socket.on('close', () => { fail(new Error('connection closed')) })
  }

  static async open (url: URL): Promise<LeanConnection> {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new LeanConnection(socket)
  }

  /** Sends one POST and resolves with the response's status code once the whole response is read. */
  post (path: string, host: string, headers: string, body: string): Promise<number> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed)
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject }
      this.#socket.write(`POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`)
    })
  }

  close (): void { this.#socket.destroy() }

  #onData (chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    const end = this.#buf.indexOf(CRLF2)
    if (end === -1) return
    const head = this.#buf.toString('latin1', 0, end)
    const status = Number(head.slice(9, 12))
    const lower = head.toLowerCase()
    const cl = /\r\ncontent-length: *(\d+)/.exec(lower)
    let total: number
    if (cl !== null) {
      total = end + 4 + Number(cl[1])
    } else if (lower.includes('\r\ntransfer-encoding: chunked')) {
      const last = this.#buf.indexOf('\r\n0\r\n\r\n', end)
      if (last === -1) return
      total = last + 7
    } else {
      total = end + 4
    }
    if (this.#buf.length < total) return
    this.#buf = this.#buf.length === total ? Buffer.alloc(0) : this.#buf.subarray(total)
    const p = this.#pending
    this.#pending = undefined
    p?.resolve(status)
  }
}
