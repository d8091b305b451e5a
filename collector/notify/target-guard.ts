/**
 * Where webhooks may POST. By default a target on loopback, link-local, private
 * (RFC 1918, CGNAT 100.64/10, ULA fc00::/7), unspecified, multicast, reserved or
 * cloud-metadata addresses is refused, so an admin token cannot turn the
 * collector into a probe of its own network. The check runs on the literal
 * address, or on EVERY address a name resolves to, at creation and again before
 * each delivery; the delivery then connects only to the addresses it checked
 * (the request's `lookup` answers from that list and never re-resolves), so a
 * name that re-binds to 127.0.0.1 after validation is refused, not followed.
 * An explicit allow-list (VIGIE_WEBHOOK_ALLOW: CIDRs, addresses, host names)
 * lifts the refusal for what it names.
 */
import dns from 'node:dns'
import net, { type LookupFunction } from 'node:net'
import { parseAllowEntry } from '../core/allow-entry.js'

export interface ResolvedAddress { address: string, family: 4 | 6 }
/** Resolves a host name to all its addresses (tests inject one that sends nothing). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>

export const systemResolver: Resolver = async (host) =>
  (await dns.promises.lookup(host, { all: true, verbatim: true })).map(a => ({ address: a.address, family: a.family === 6 ? 6 : 4 }))

/** Raised before any socket opens; `reason` is safe to show to the admin. */
export class TargetRefused extends Error {
  readonly code = 'VIGIE_WEBHOOK_TARGET_REFUSED'
  constructor (readonly reason: string) { super(reason) }
}

type Range = { v: 4 | 6, base: bigint, bits: number, name: string }

function v4ToBig (ip: string): bigint {
  return ip.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n)
}

function v6ToBig (ip: string): bigint {
  let s = ip.toLowerCase().replace(/%.*$/, '')
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  if (dotted !== null) {
    const n = v4ToBig(dotted[1])
    s = s.slice(0, -dotted[1].length) + (n >> 16n).toString(16) + ':' + (n & 0xffffn).toString(16)
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined]
  const h = head === '' ? [] : head.split(':')
  const tl = tail === undefined || tail === '' ? [] : tail.split(':')
  const parts = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl]
  return parts.reduce((acc, p) => (acc << 16n) | BigInt(parseInt(p, 16)), 0n)
}

function range (cidr: string, name: string): Range {
  const [addr, len] = cidr.split('/')
  const v = net.isIPv4(addr) ? 4 : 6
  const total = v === 4 ? 32 : 128
  const bits = len === undefined ? total : Number(len)
  const full = v === 4 ? v4ToBig(addr) : v6ToBig(addr)
  return { v, bits, name, base: full >> BigInt(total - bits) }
}

function inRange (r: Range, v: 4 | 6, n: bigint): boolean {
  if (r.v !== v) return false
  const total = v === 4 ? 32 : 128
  return n >> BigInt(total - r.bits) === r.base
}

const FORBIDDEN: Range[] = [
  range('0.0.0.0/8', 'unspecified'), range('127.0.0.0/8', 'loopback'), range('10.0.0.0/8', 'private'),
  range('172.16.0.0/12', 'private'), range('192.168.0.0/16', 'private'), range('100.64.0.0/10', 'shared (CGNAT)'),
  range('169.254.169.254/32', 'cloud metadata'), range('169.254.0.0/16', 'link-local'), range('192.0.0.0/24', 'IETF protocol assignments'),
  range('198.18.0.0/15', 'benchmarking'), range('224.0.0.0/4', 'multicast'), range('240.0.0.0/4', 'reserved'),
  range('::/128', 'unspecified'), range('::1/128', 'loopback'), range('::/96', 'IPv4-compatible'),
  range('fd00:ec2::254/128', 'cloud metadata'), range('fc00::/7', 'unique local (private)'), range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local'), range('ff00::/8', 'multicast')
]

/** An address as (family, 128/32-bit number), IPv4-mapped/NAT64/6to4 IPv6 unwrapped to the IPv4 inside. */
function normalise (ip: string): { v: 4 | 6, n: bigint } | undefined {
  if (net.isIPv4(ip)) return { v: 4, n: v4ToBig(ip) }
  if (!net.isIPv6(ip)) return undefined
  const n = v6ToBig(ip)
  if (n >> 32n === 0xffffn) return { v: 4, n: n & 0xffffffffn } // ::ffff:a.b.c.d
  if (n >> 32n === 0x0064ff9b0000000000000000n) return { v: 4, n: n & 0xffffffffn } // 64:ff9b::/96
  if (n >> 112n === 0x2002n) return { v: 4, n: (n >> 80n) & 0xffffffffn } // 2002:aabb:ccdd::/48
  return { v: 6, n }
}

/** Why this address may not be a webhook target (the range's name), or undefined when it may. */
export function forbiddenRange (ip: string): string | undefined {
  const a = normalise(ip)
  if (a === undefined) return 'not an IP address'
  if (a.v === 4 && a.n === 0xffffffffn) return 'broadcast'
  return FORBIDDEN.find(r => inRange(r, a.v, a.n))?.name
}


export class TargetGuard {
  readonly #ranges: Range[]
  readonly #names: string[]
  readonly #resolve: Resolver

  constructor (opts: { allow?: readonly string[], resolve?: Resolver } = {}) {
    const allow = (opts.allow ?? []).map(parseAllowEntry)
    this.#ranges = allow.filter(e => net.isIP(e.split('/')[0]) !== 0).map(e => range(e, 'allowed'))
    this.#names = allow.filter(e => net.isIP(e.split('/')[0]) === 0)
    this.#resolve = opts.resolve ?? systemResolver
  }

  #nameAllowed (host: string): boolean {
    const h = host.toLowerCase().replace(/\.$/, '')
    return this.#names.some(n => n.startsWith('*.') ? h.endsWith(n.slice(1)) : h === n)
  }

  /** Throws TargetRefused when `ip` is in a refused range and not allow-listed. */
  checkAddress (ip: string): void {
    const why = forbiddenRange(ip)
    if (why === undefined) return
    const a = normalise(ip)
    if (a !== undefined && this.#ranges.some(r => inRange(r, a.v, a.n) || (net.isIPv6(ip) && inRange(r, 6, v6ToBig(ip))))) return
    throw new TargetRefused(`target address not allowed (${why}); see VIGIE_WEBHOOK_ALLOW`)
  }

  /** The URL's host without IPv6 brackets. */
  static hostOf (u: URL): string { return u.hostname.replace(/^\[(.*)\]$/, '$1') }

  /** Synchronous part: literal addresses and `localhost` names; no lookup. */
  checkLiteral (u: URL): void {
    const host = TargetGuard.hostOf(u)
    if (this.#nameAllowed(host)) return
    if (net.isIP(host) !== 0) { this.checkAddress(host); return }
    if (/(^|\.)localhost\.?$/i.test(host)) this.checkAddress('127.0.0.1')
  }

  /**
   * Every address the URL's host stands for, each checked. Literal addresses are
   * not resolved; a name is resolved once and refused when ANY of its addresses
   * is refused.
   */
  async resolveChecked (u: URL): Promise<ResolvedAddress[]> {
    const host = TargetGuard.hostOf(u)
    if (net.isIP(host) !== 0) {
      if (!this.#nameAllowed(host)) this.checkAddress(host)
      return [{ address: host, family: net.isIPv4(host) ? 4 : 6 }]
    }
    this.checkLiteral(u)
    let found: ResolvedAddress[]
    try { found = await this.#resolve(host) } catch { throw new TargetRefused('target host name did not resolve') }
    if (found.length === 0) throw new TargetRefused('target host name did not resolve')
    if (!this.#nameAllowed(host)) for (const a of found) this.checkAddress(a.address)
    return found
  }
}

/** A `lookup` for http(s).request that answers only with addresses already checked: nothing is resolved at connect time. */
export function pinnedLookup (addresses: readonly ResolvedAddress[]): LookupFunction {
  return ((_host: string, opts: { all?: boolean, family?: number | string }, cb: (...a: unknown[]) => void) => {
    const fam = opts.family === 6 || opts.family === 'IPv6' ? 6 : opts.family === 4 || opts.family === 'IPv4' ? 4 : 0
    const list = addresses.filter(a => fam === 0 || a.family === fam)
    if (list.length === 0) { cb(Object.assign(new Error('no checked address of the requested family'), { code: 'ENOTFOUND' })); return }
    if (opts.all === true) cb(null, list.map(a => ({ address: a.address, family: a.family })))
    else cb(null, list[0].address, list[0].family)
  }) as unknown as LookupFunction
}

const SECRET_PARAM = /^(token|access_token|api[_-]?key|key|secret|password|passwd|pwd|auth|sig|signature|code)$/i

/** The URL as admins and logs may see it: credentials (user:pass@) and secret-named query values replaced by ***. */
export function redactWebhookUrl (raw: string): string {
  let u: URL
  try { u = new URL(raw) } catch { return '(invalid URL)' }
  if (u.username !== '' || u.password !== '') { u.username = '***'; u.password = '' }
  for (const k of [...u.searchParams.keys()]) if (SECRET_PARAM.test(k)) u.searchParams.set(k, '***')
  return u.toString().replace(/%2A%2A%2A/g, '***')
}
