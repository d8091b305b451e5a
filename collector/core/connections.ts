/**
 * Connection budget of the HTTP(S) server: open connections per client address,
 * and header / whole-request timeouts that fire when documented.
 *
 * Node checks `headersTimeout` and `requestTimeout` on a timer
 * (`connectionsCheckingInterval`, 30 s by default), so a slow-header or
 * slow-body client lived up to 30 s past the documented timeout. The check runs
 * here every second at most (a tenth of the shortest timeout, at least 100 ms):
 * a client that has not sent its headers within VIGIE_HEADERS_TIMEOUT_MS, or its
 * whole request within VIGIE_REQUEST_TIMEOUT_MS, is answered 408 and closed
 * within that time plus the check interval.
 *
 * Connections are counted per remote address on the server's `connection` event
 * (before any TLS handshake or HTTP parsing); one past VIGIE_MAX_CONNECTIONS_PER_IP
 * is destroyed at once, so one address cannot take the file descriptors every
 * other agent and technician need. Behind a reverse proxy every connection comes
 * from the proxy: raise the limit or set 0 (off) there.
 */
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

export interface ConnectionBudget {
  maxConnectionsPerIp: number
  headersTimeoutMs: number
  requestTimeoutMs: number
}

export interface ConnectionBudgetHooks {
  /** a connection was refused: its address had maxConnectionsPerIp open already */
  onRefused?: (address: string, open: number) => void
}

/** Applies the budget to `server`; call before listen (the timeout check starts on 'listening'). */
export function installConnectionBudget (server: Server, budget: ConnectionBudget, hooks: ConnectionBudgetHooks = {}): { open: (address: string) => number } {
  const headersTimeout = Math.min(budget.headersTimeoutMs, budget.requestTimeoutMs)
  server.headersTimeout = headersTimeout
  server.requestTimeout = budget.requestTimeoutMs
  // a real property (read when the server starts listening), missing from @types/node 20
  ;(server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(100, Math.min(1000, Math.floor(headersTimeout / 10)))

  const open = new Map<string, number>()
  if (budget.maxConnectionsPerIp > 0) {
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? 'unknown'
      const n = open.get(address) ?? 0
      if (n >= budget.maxConnectionsPerIp) {
        socket.destroy()
        hooks.onRefused?.(address, n)
        return
      }
      open.set(address, n + 1)
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1
        if (left <= 0) open.delete(address)
        else open.set(address, left)
      })
    })
  }
  return { open: (address) => open.get(address) ?? 0 }
}
