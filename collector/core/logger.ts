/**
 * pino options for the collector: pretty on a TTY, JSON otherwise; never logs a
 * token (Authorization headers are not logged, query strings are cut from URLs,
 * and anything shaped like a Vigie secret is redacted from messages).
 */
import type { LoggerOptions } from 'pino'

export function loggerOptions (level: string, pretty = process.stdout.isTTY): LoggerOptions {
  const opts: LoggerOptions = {
    level,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.token', '*.agentToken', '*.enrollToken'], censor: '[redacted]' },
    serializers: {
      req (req: { method: string, url: string, ip?: string }) {
        return { method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip }
      }
    }
  }
  if (pretty) opts.transport = { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } }
  return opts
}
