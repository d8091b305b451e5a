/** Where the agent lives on each OS once installed (paths on the target system, before any --root prefix). */
export type TargetOs = 'linux' | 'darwin' | 'win32'

export interface Layout {
  os: TargetOs
  /** the agent executable */
  binary: string
  /** JSON config, mode 0600 (holds the enrollment token until first start) */
  configFile: string
  /** state (agent token, seq) and spool */
  stateDir: string
  /** the service definition file */
  serviceFile: string
  /** the service's name as the service manager knows it */
  serviceName: string
  /** the unprivileged account the service runs as ('root' / 'LocalSystem' when elevated) */
  user: string
  /** agent log file, where the service manager does not keep logs itself */
  logFile?: string
}

export function layoutFor (os: TargetOs, opts: { runAsRoot?: boolean } = {}): Layout {
  if (os === 'darwin') {
    // launchd daemons run as root; creating a hidden system user on macOS needs dscl and a free uid, left to MDM tooling.
    return {
      os,
      binary: '/usr/local/bin/vigie-agent',
      configFile: '/Library/Application Support/Vigie/agent.json',
      stateDir: '/Library/Application Support/Vigie/agent',
      serviceFile: '/Library/LaunchDaemons/org.vigie.agent.plist',
      serviceName: 'org.vigie.agent',
      user: 'root',
      logFile: '/Library/Logs/Vigie/vigie-agent.log'
    }
  }
  if (os === 'win32') {
    return {
      os,
      binary: 'C:\\Program Files\\Vigie\\vigie-agent.exe',
      configFile: 'C:\\ProgramData\\Vigie\\agent.json',
      stateDir: 'C:\\ProgramData\\Vigie\\agent',
      serviceFile: 'C:\\Program Files\\Vigie\\vigie-agent-service.xml',
      serviceName: 'VigieAgent',
      user: 'LocalSystem',
      logFile: 'C:\\ProgramData\\Vigie\\logs'
    }
  }
  return {
    os,
    binary: '/usr/local/bin/vigie-agent',
    configFile: '/etc/vigie-agent/config.json',
    stateDir: '/var/lib/vigie-agent',
    serviceFile: '/etc/systemd/system/vigie-agent.service',
    serviceName: 'vigie-agent.service',
    user: opts.runAsRoot === true ? 'root' : 'vigie-agent'
  }
}
