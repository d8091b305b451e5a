/**
 * Host facts on Linux: OS name/version/build from /etc/os-release, hardware
 * vendor, model and serial from /sys/class/dmi/id (the serial is readable by
 * root only), CPU and memory from Node.
 */
import os from 'node:os'
import type { HostSample, NotMeasured, Sample } from '../sample.js'
import { readLine, readText } from './read-file.js'
import type { Collect, ProbeEnv } from './probe.js'
import { cleanFact } from './host.js'

/** Parses os-release(5): KEY=value lines, values optionally quoted. */
export function parseOsRelease (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
    if (m === null) continue
    let v = m[2]
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(["'$`\\])/g, '$1')
    out[m[1]] = v
  }
  return out
}

export async function linuxHostFacts (root: string): Promise<{ host: HostSample, unavailable: NotMeasured[] }> {
  const rel = parseOsRelease((await readText(root, 'etc/os-release')) ?? (await readText(root, 'usr/lib/os-release')) ?? '')
  const dmi = async (f: string): Promise<string | undefined> => cleanFact(await readLine(root, `sys/class/dmi/id/${f}`))
  const cpus = os.cpus()
  const serial = await dmi('product_serial')
  const host: HostSample = {
    hostname: os.hostname(),
    os: rel.NAME ?? 'Linux',
    osVersion: [rel.VERSION_ID ?? rel.VERSION ?? '', rel.BUILD_ID !== undefined ? `build ${rel.BUILD_ID}` : ''].filter(s => s !== '').join(' '),
    kernel: os.release(),
    arch: process.arch,
    manufacturer: await dmi('sys_vendor'),
    model: [await dmi('product_name'), await dmi('product_version')].filter(s => s !== undefined).join(' ') || undefined,
    serial,
    cpuModel: cleanFact(cpus[0]?.model),
    cpuCores: cpus.length,
    memTotalBytes: os.totalmem()
  }
  const unavailable: NotMeasured[] = serial === undefined ? [{ probe: 'host.serial', reason: 'serial number unreadable (needs root, or the firmware does not state it)' }] : []
  return { host, unavailable }
}

export function linuxHost (env: ProbeEnv = {}): Collect {
  const root = env.root ?? '/'
  return async (): Promise<Sample> => {
    const { host, unavailable } = await linuxHostFacts(root)
    for (const k of Object.keys(host) as Array<keyof HostSample>) if (host[k] === undefined) delete host[k]
    return { metrics: [], host, unavailable }
  }
}

/** What identifies this hardware at enrollment: the firmware's vendor, model and serial (a hint; none may be readable). */
export async function linuxHardwareFacts (env: ProbeEnv = {}): Promise<Pick<HostSample, 'serial' | 'model' | 'manufacturer'>> {
  const { host } = await linuxHostFacts(env.root ?? '/')
  const out: Pick<HostSample, 'serial' | 'model' | 'manufacturer'> = {}
  if (host.serial !== undefined) out.serial = host.serial
  if (host.model !== undefined) out.model = host.model
  if (host.manufacturer !== undefined) out.manufacturer = host.manufacturer
  return out
}
