/** Host facts: name, OS, kernel, hardware model and serial. Costly, so refreshed hourly. */
import os from 'node:os'
import si from 'systeminformation'
import type { Probe } from './probe.js'

export function hostProbe (): Probe {
  return {
    name: 'host',
    timeoutMs: 15_000,
    everySec: 3600,
    async collect () {
      const [info, sys, cpu] = await Promise.all([si.osInfo(), si.system(), si.cpu()])
      const clean = (v: string | undefined): string | undefined => {
        const t = v?.trim()
        return t === undefined || t === '' || /^(default string|to be filled|not specified|none|-)$/i.test(t) ? undefined : t
      }
      let user: string | undefined
      try { user = os.userInfo().username } catch { user = undefined }
      return {
        metrics: [],
        host: {
          hostname: os.hostname(),
          os: clean(info.distro) ?? info.platform,
          osVersion: clean(info.release) ?? '',
          kernel: clean(info.kernel) ?? os.release(),
          arch: info.arch,
          manufacturer: clean(sys.manufacturer),
          model: clean(sys.model),
          serial: clean(sys.serial),
          cpuModel: clean(`${cpu.manufacturer} ${cpu.brand}`),
          cpuCores: cpu.cores,
          user
        }
      }
    }
  }
}
