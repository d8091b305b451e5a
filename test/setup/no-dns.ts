/**
 * Loaded into every test process before the test file (package.json, "tap" →
 * "node-arg": --import): no test may use the system's DNS resolver for a name
 * off this machine. A lookup of any name but `localhost` (or an IP literal, which
 * needs no resolver) and every DNS query (`resolve*`, `reverse`, `lookupService`,
 * the `Resolver` classes, callback and promise forms) is refused before the
 * resolver runs, so no packet leaves the machine: the call throws (callback
 * forms) or rejects (promise forms) with `VIGIE_TEST_DNS_REFUSED`, and, in case
 * the caller swallowed the error, the process exits 1 naming every refused
 * lookup. Code under test that must resolve names takes a resolver (the webhook
 * target guard does); tests give it one that answers from a table.
 */
import dns from 'node:dns'
import net from 'node:net'
import { syncBuiltinESMExports } from 'node:module'

interface SafetyNet {
  /** every refused call, as `api(name)` */
  refused: string[]
  /** the resolver functions as Node had them, for the safety net's own test */
  original: { lookup: typeof dns.lookup, resolverMethods: Record<string, (...args: unknown[]) => unknown> }
}

const KEY = Symbol.for('vigie.test.dnsSafetyNet')
const g = globalThis as typeof globalThis & { [KEY]?: SafetyNet }

if (g[KEY] === undefined) {
  const refused: string[] = []
  const original: SafetyNet['original'] = { lookup: dns.lookup, resolverMethods: {} }
  g[KEY] = { refused, original }

  const refusal = (api: string, name: unknown): Error => {
    const what = `${api}(${JSON.stringify(name)})`
    refused.push(what)
    return Object.assign(new Error(`test safety net: ${what} would ask the system DNS resolver (a packet off this machine). ` +
      'Tests use 127.0.0.1, ::1 or localhost, or give the code a resolver that answers from a table.'), { code: 'VIGIE_TEST_DNS_REFUSED', hostname: name })
  }
  const local = (name: unknown): boolean => typeof name === 'string' && (net.isIP(name) !== 0 || /^localhost\.?$/i.test(name))

  const lookup = function (this: unknown, hostname: string, ...rest: unknown[]): unknown {
    if (!local(hostname)) throw refusal('dns.lookup', hostname)
    return (original.lookup as (...a: unknown[]) => unknown).call(this, hostname, ...rest)
  } as typeof dns.lookup
  dns.lookup = lookup
  const promiseLookup = dns.promises.lookup
  dns.promises.lookup = (async (hostname: string, ...rest: unknown[]) => {
    if (!local(hostname)) throw refusal('dns.promises.lookup', hostname)
    return await (promiseLookup as (...a: unknown[]) => Promise<unknown>)(hostname, ...rest)
  }) as typeof dns.promises.lookup

  // Every DNS query sends a packet, whatever the name (even `localhost` goes to the name server).
  const QUERIES = ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCaa', 'resolveCname', 'resolveMx', 'resolveNaptr',
    'resolveNs', 'resolvePtr', 'resolveSoa', 'resolveSrv', 'resolveTxt', 'reverse', 'lookupService'] as const
  const callbackHost = dns as unknown as Record<string, unknown>
  const promiseHost = dns.promises as unknown as Record<string, unknown>
  const callbackResolver = dns.Resolver.prototype as unknown as Record<string, unknown>
  const promiseResolver = dns.promises.Resolver.prototype as unknown as Record<string, unknown>
  for (const q of QUERIES) {
    if (typeof callbackHost[q] === 'function') callbackHost[q] = (name: unknown) => { throw refusal(`dns.${q}`, name) }
    if (typeof promiseHost[q] === 'function') promiseHost[q] = async (name: unknown) => { throw refusal(`dns.promises.${q}`, name) }
    if (typeof callbackResolver[q] === 'function') {
      original.resolverMethods[q] = callbackResolver[q] as (...args: unknown[]) => unknown
      callbackResolver[q] = (name: unknown) => { throw refusal(`Resolver.${q}`, name) }
    }
    if (typeof promiseResolver[q] === 'function') promiseResolver[q] = async (name: unknown) => { throw refusal(`promises.Resolver.${q}`, name) }
  }
  // `import { lookup } from 'node:dns'` sees the refusing functions too.
  syncBuiltinESMExports()

  process.on('exit', () => {
    if (refused.length === 0) return
    process.stderr.write(`\ntest safety net: ${refused.length} DNS lookup(s) refused in this test process: ${refused.slice(0, 20).join(', ')}\n`)
    process.exitCode = 1
  })
}
