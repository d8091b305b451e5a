/** The syntax of a webhook allow-list entry (VIGIE_WEBHOOK_ALLOW), checked when the configuration loads; collector/notify/target-guard.ts applies the list. */
import net from 'node:net'

/** Validates one VIGIE_WEBHOOK_ALLOW entry: a CIDR, an address, a host name or `*.domain`. */
export function parseAllowEntry (raw: string): string {
  const e = raw.trim().toLowerCase()
  const [addr, len] = e.split('/')
  if (net.isIP(addr) !== 0) {
    const max = net.isIPv4(addr) ? 32 : 128
    if (len !== undefined && (!/^\d{1,3}$/.test(len) || Number(len) > max)) throw new Error(`'${raw}': prefix length must be 0 to ${max}`)
    return e
  }
  if (len === undefined && /^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(e) && e.length <= 253) return e
  throw new Error(`'${raw}': expected CIDRs (10.0.0.0/8, fd00::/8), addresses or host names (hooks.internal, *.corp.example), comma-separated`)
}
