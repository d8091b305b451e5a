/**
 * TLS for the collector: VIGIE_TLS_CERT / VIGIE_TLS_KEY (PEM files) turn on
 * HTTPS and WSS on the same port. Read and checked once at start-up: a missing
 * file or a key that does not match the certificate fails fast, naming the variable.
 */
import fs from 'node:fs'
import tls from 'node:tls'
import { ConfigError, type CollectorConfig } from './config.js'

export interface TlsFiles { key: Buffer, cert: Buffer, minVersion: 'TLSv1.2' }

/** The https options for Fastify, or undefined when TLS is off. */
export function loadTls (config: Pick<CollectorConfig, 'tlsCert' | 'tlsKey'>): TlsFiles | undefined {
  if (config.tlsCert === undefined || config.tlsKey === undefined) return undefined
  const read = (file: string, env: string): Buffer => {
    try { return fs.readFileSync(file) } catch (err) {
      throw new ConfigError(`${env}=${JSON.stringify(file)}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
  }
  const cert = read(config.tlsCert, 'VIGIE_TLS_CERT')
  const key = read(config.tlsKey, 'VIGIE_TLS_KEY')
  try {
    tls.createSecureContext({ cert, key, minVersion: 'TLSv1.2' })
  } catch (err) {
    // The message never includes the key's content.
    throw new ConfigError(`VIGIE_TLS_CERT / VIGIE_TLS_KEY: not a usable PEM certificate and matching key (${(err as Error).message})`)
  }
  return { key, cert, minVersion: 'TLSv1.2' }
}
