/** Host facts on macOS and Windows, from systeminformation (osInfo, system, cpu). */
import os from 'node:os'
import { si } from './si.js'
import type { HostSample, Sample } from '../sample.js'
import type { Collect } from './probe.js'
import { cleanFact } from './host.js'

export function siHost (): Collect {
  return async (): Promise<Sample> => {
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
