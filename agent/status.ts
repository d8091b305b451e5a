/** `vigie-agent status`: is the service running, is the agent enrolled, how big is the backlog. */
import { execFileSync } from 'node:child_process'
import type { AgentConfig } from './config.js'
import { checkStateDir } from './doctor.js'
import { layoutFor, type TargetOs } from './install/layout.js'

/** The service manager's view, or why it could not be asked. */
export function serviceState (os: TargetOs): string {
  const l = layoutFor(os)
  const ask = (file: string, args: string[]): string => {
    try {
      return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 }).trim()
    } catch (err) {
      const e = err as { stdout?: string, stderr?: string, code?: string, message: string }
      if (e.code === 'ENOENT') return `${file} not available`
      return (e.stdout ?? '').trim() || (e.stderr ?? '').trim().split('\n')[0] || e.message.split('\n')[0]
    }
  }
  if (os === 'linux') return `${l.serviceName}: ${ask('systemctl', ['is-active', l.serviceName])}`
  if (os === 'darwin') return `${l.serviceName}: ${/state = (\w+)/.exec(ask('launchctl', ['print', `system/${l.serviceName}`]))?.[1] ?? 'not loaded'}`
  return `${l.serviceName}: ${/STATE\s+:\s+\d+\s+(\w+)/.exec(ask('sc.exe', ['query', l.serviceName]))?.[1] ?? 'not installed'}`
}

export function formatStatus (config: AgentConfig, os: TargetOs): string {
  const lines = [`service     ${serviceState(os)}`, `collector   ${config.collectorUrl}`]
  for (const c of checkStateDir(config)) lines.push(`${c.name.padEnd(11)} ${c.ok ? '' : 'PROBLEM: '}${c.detail}`)
  return lines.join('\n') + '\n'
}
