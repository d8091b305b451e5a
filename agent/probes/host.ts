/**
 * Host facts: name, OS name/version/build, kernel, hardware vendor, model and
 * serial, CPU model and count, memory. Linux: /etc/os-release and
 * /sys/class/dmi/id (the serial is readable by root only); elsewhere
 * systeminformation. Rarely changes, so hourly.
 */
import os from 'node:os'
import { si } from './si.js'
import type { HostSample, NotMeasured, Sample } from '../sample.js'
import { readLine, readText } from './read-file.js'
import type { Probe, ProbeEnv } from './probe.js'

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

/** Firmware placeholders that mean "unknown". */
export function cleanFact (v: string | undefined): string | undefined {
  const t = v?.trim()
  return t === undefined || t === '' || /^(default string|to be filled.*|not specified|none|system product name|system manufacturer|o\.e\.m\.|-|0)$/i.test(t) ? undefined : t.slice(0, 256)
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

export function hostProbe (env: ProbeEnv = {}): Probe {
  const root = env.root ?? '/'
  const platform = env.platform ?? process.platform
  return {
    name: 'host',
    timeoutMs: 15_000,
    everySec: 3600,
    elevation: 'root for the serial number on Linux',
    async collect (): Promise<Sample> {
      if (platform === 'linux') {
        const { host, unavailable } = await linuxHostFacts(root)
        for (const k of Object.keys(host) as Array<keyof HostSample>) if (host[k] === undefined) delete host[k]
        return { metrics: [], host, unavailable }
      }
      const [info, sys, cpu] = await Promise.all([(await si()).osInfo(), (await si()).system(), (await si()).cpu()])
      const build = cleanFact(info.build)
      const release = cleanFact(info.release) ?? ''
      const host: HostSample = {
        hostname: os.hostname(),
        os: cleanFact(info.distro) ?? info.platform,
        osVersion: build !== undefined && !release.includes(build) ? `${release} build ${build}` : release,
        kernel: cleanFact(info.kernel) ?? os.release(),
        arch: info.arch,
        cpuModel: cleanFact(`${cpu.manufacturer} ${cpu.brand}`),
        cpuCores: cpu.cores,
        memTotalBytes: os.totalmem()
      }
      const manufacturer = cleanFact(sys.manufacturer)
      const model = cleanFact(sys.model)
      const serial = cleanFact(sys.serial)
      if (manufacturer !== undefined) host.manufacturer = manufacturer
      if (model !== undefined) host.model = model
      if (serial !== undefined) host.serial = serial
      return { metrics: [], host }
    }
  }
}
