/**
 * The agent's logger: pino's JSON lines (same fields, same level numbers, same
 * `err` serialization and token redaction), in ~80 lines instead of pino and
 * its worker-thread transport machinery, which cost the agent ~3 MB of resident
 * memory for a program that writes a few lines an hour
 * (bench/agent-footprint.ts). On a terminal it prints short readable lines.
 */
import os from 'node:os'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
type LogFn = (obj: object, msg?: string) => void

export interface AgentLogger {
  fatal: LogFn
  error: LogFn
  warn: LogFn
  info: LogFn
  debug: LogFn
  trace: LogFn
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const

/** Keys whose values never reach a log line, at the top level or one object down (pino's redact paths `token`, `*.token`, …). */
const SECRET_KEYS = new Set(['agentToken', 'enrollToken', 'token'])
const REDACTED = '[redacted]'

/** pino's standard error serializer: type, message, stack, and the error's own fields (code, kind, …). */
function serializeError (e: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: e.constructor?.name ?? 'Error', message: e.message, stack: e.stack }
  for (const [k, v] of Object.entries(e)) if (!(k in out)) out[k] = v instanceof Error ? serializeError(v) : v
  if (e.cause instanceof Error) out.cause = serializeError(e.cause)
  return out
}

function clean (obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) {
    if (SECRET_KEYS.has(k)) out[k] = v === undefined ? v : REDACTED
    else if (v instanceof Error) out[k] = serializeError(v)
    else if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'token' in v) out[k] = { ...v, token: REDACTED }
    else out[k] = v
  }
  return out
}

export interface LoggerOptions {
  level: LogLevel
  name: string
  /** short readable lines instead of JSON (a terminal) */
  pretty?: boolean
  /** where lines go (default: stdout) */
  write?: (line: string) => void
  now?: () => number
}

export function createLogger (opts: LoggerOptions): AgentLogger {
  const min = LEVELS[opts.level]
  const write = opts.write ?? ((line: string) => { process.stdout.write(line) })
  const now = opts.now ?? Date.now
  const hostname = os.hostname()
  const fn = (name: Exclude<LogLevel, 'silent'>): LogFn => {
    const level = LEVELS[name]
    if (level < min) return () => {}
    return (obj, msg) => {
      const fields = obj instanceof Error ? { err: serializeError(obj) } : clean(obj)
      if (opts.pretty === true) {
        const t = new Date(now())
        const hms = [t.getHours(), t.getMinutes(), t.getSeconds()].map(n => String(n).padStart(2, '0')).join(':')
        const rest = Object.entries(fields).map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('')
        write(`[${hms}] ${name.toUpperCase()} (${opts.name}): ${msg ?? ''}${rest}\n`)
        return
      }
      let line: string
      try {
        line = JSON.stringify({ level, time: now(), pid: process.pid, hostname, name: opts.name, ...fields, ...(msg !== undefined ? { msg } : {}) })
      } catch {
        // A circular or otherwise unserializable field: keep the message rather than throw into the caller.
        line = JSON.stringify({ level, time: now(), pid: process.pid, hostname, name: opts.name, msg, logError: 'fields not serializable' })
      }
      write(line + '\n')
    }
  }
  return { fatal: fn('fatal'), error: fn('error'), warn: fn('warn'), info: fn('info'), debug: fn('debug'), trace: fn('trace') }
}
