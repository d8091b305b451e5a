/**
 * `vigie-agent install | uninstall | status`: writes the config (JSON, 0600)
 * and the service definition, creates the service account and registers the
 * service. Every step is an Action, so `--dry-run` prints the plan and
 * `--root DIR` writes the files under DIR without touching the real system
 * (commands are then listed, not run) — how the tests exercise it.
 */
import fs from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { layoutFor, type Layout, type TargetOs } from './layout.js'
import { launchdPlist, systemdUnit, winswConfig } from './service-files.js'

export type Action =
  | { kind: 'mkdir', path: string, mode: number }
  | { kind: 'write', path: string, mode: number, content: string, secret?: boolean }
  | { kind: 'copy', from: string, path: string, mode: number }
  | { kind: 'remove', path: string }
  | { kind: 'chown', path: string, user: string }
  | { kind: 'run', argv: string[], ignoreFailure?: boolean }

export interface InstallOptions {
  collectorUrl: string
  enrollToken: string
  os?: TargetOs
  /** prefix for every file written; commands are not run unless this is '/' */
  root?: string
  dryRun?: boolean
  /** the executable to install (default: this running binary when it is a single-file build) */
  binary?: string
  /** run the service as root (full SMART, serial number) instead of the unprivileged account */
  runAsRoot?: boolean
  /** extra config keys (intervalSec, probes, …) */
  extra?: Record<string, unknown>
}

/** A path on the target system, placed under `root`. Windows paths keep their drive letter as a folder. */
export function underRoot (root: string, target: string): string {
  if (root === '/') return target
  return path.join(root, target.replace(/^([A-Za-z]):\\/, '$1/').replace(/\\/g, '/'))
}

export function installPlan (opts: InstallOptions): { layout: Layout, actions: Action[] } {
  const os = opts.os ?? (process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux')
  const l = layoutFor(os, { runAsRoot: opts.runAsRoot })
  // The token goes in its own file in the state folder, never on the service's command line nor in the
  // config: the agent reads it once and deletes it after its first enrollment (the state folder is writable to it).
  const tokenFile = enrollTokenFileOf(l)
  const config = { collectorUrl: opts.collectorUrl, enrollTokenFile: tokenFile, stateDir: l.stateDir, ...opts.extra }
  const dir = (p: string): string => os === 'win32' ? p.replace(/\\[^\\]+$/, '') : path.posix.dirname(p)
  const a: Action[] = []
  if (opts.binary !== undefined) a.push({ kind: 'mkdir', path: dir(l.binary), mode: 0o755 }, { kind: 'copy', from: opts.binary, path: l.binary, mode: 0o755 })
  a.push(
    { kind: 'mkdir', path: dir(l.configFile), mode: 0o755 },
    { kind: 'write', path: l.configFile, mode: 0o600, content: JSON.stringify(config, null, 2) + '\n' },
    { kind: 'mkdir', path: l.stateDir, mode: 0o700 },
    { kind: 'write', path: tokenFile, mode: 0o600, content: opts.enrollToken + '\n', secret: true }
  )
  if (os === 'linux') {
    if (l.user !== 'root') {
      a.push({ kind: 'run', argv: ['sh', '-c', `getent passwd ${l.user} >/dev/null || useradd --system --no-create-home --home-dir ${l.stateDir} --shell /usr/sbin/nologin ${l.user}`] })
      // The agent reads its config and enrollment token as its own user (and deletes the token); nobody else may.
      a.push({ kind: 'chown', path: l.configFile, user: l.user }, { kind: 'chown', path: l.stateDir, user: l.user }, { kind: 'chown', path: tokenFile, user: l.user })
    }
    a.push(
      { kind: 'mkdir', path: dir(l.serviceFile), mode: 0o755 },
      { kind: 'write', path: l.serviceFile, mode: 0o644, content: systemdUnit(l) },
      { kind: 'run', argv: ['systemctl', 'daemon-reload'] },
      { kind: 'run', argv: ['systemctl', 'enable', '--now', l.serviceName] }
    )
  } else if (os === 'darwin') {
    a.push(
      { kind: 'mkdir', path: path.posix.dirname(l.logFile ?? '/tmp/x'), mode: 0o755 },
      { kind: 'mkdir', path: dir(l.serviceFile), mode: 0o755 },
      { kind: 'write', path: l.serviceFile, mode: 0o644, content: launchdPlist(l) },
      { kind: 'run', argv: ['launchctl', 'bootout', `system/${l.serviceName}`], ignoreFailure: true },
      { kind: 'run', argv: ['launchctl', 'bootstrap', 'system', l.serviceFile] }
    )
  } else {
    const wrapper = l.serviceFile.replace(/\.xml$/, '.exe')
    a.push(
      // ProgramData is readable by Users: restrict the config to SYSTEM and Administrators.
      { kind: 'run', argv: ['icacls', l.configFile, '/inheritance:r', '/grant:r', 'SYSTEM:F', 'Administrators:F'] },
      { kind: 'run', argv: ['icacls', l.stateDir, '/inheritance:r', '/grant:r', 'SYSTEM:(OI)(CI)F', 'Administrators:(OI)(CI)F'] },
      { kind: 'run', argv: ['icacls', tokenFile, '/inheritance:r', '/grant:r', 'SYSTEM:F', 'Administrators:F'] },
      { kind: 'mkdir', path: dir(l.serviceFile), mode: 0o755 },
      { kind: 'write', path: l.serviceFile, mode: 0o644, content: winswConfig(l) },
      { kind: 'run', argv: [wrapper, 'install'] },
      { kind: 'run', argv: [wrapper, 'start'] }
    )
  }
  return { layout: l, actions: a }
}

/** Where the installer leaves the enrollment token for the agent's first start: a file in its state folder. */
export function enrollTokenFileOf (l: Layout): string {
  return l.os === 'win32' ? `${l.stateDir}\\enroll-token` : path.posix.join(l.stateDir, 'enroll-token')
}

export function uninstallPlan (opts: { os?: TargetOs, purge?: boolean }): { layout: Layout, actions: Action[] } {
  const os = opts.os ?? (process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux')
  const l = layoutFor(os)
  const a: Action[] = []
  if (os === 'linux') {
    a.push(
      { kind: 'run', argv: ['systemctl', 'disable', '--now', l.serviceName], ignoreFailure: true },
      { kind: 'remove', path: l.serviceFile },
      { kind: 'run', argv: ['systemctl', 'daemon-reload'], ignoreFailure: true }
    )
  } else if (os === 'darwin') {
    a.push({ kind: 'run', argv: ['launchctl', 'bootout', `system/${l.serviceName}`], ignoreFailure: true }, { kind: 'remove', path: l.serviceFile })
  } else {
    const wrapper = l.serviceFile.replace(/\.xml$/, '.exe')
    a.push({ kind: 'run', argv: [wrapper, 'stop'], ignoreFailure: true }, { kind: 'run', argv: [wrapper, 'uninstall'], ignoreFailure: true }, { kind: 'remove', path: l.serviceFile })
  }
  if (opts.purge === true) {
    a.push({ kind: 'remove', path: l.configFile }, { kind: 'remove', path: l.stateDir })
    if (os === 'linux') a.push({ kind: 'run', argv: ['sh', '-c', `! getent passwd ${l.user} >/dev/null || userdel ${l.user}`], ignoreFailure: true })
  }
  return { layout: l, actions: a }
}

/** One line per action, secrets hidden. */
export function describe (a: Action): string {
  switch (a.kind) {
    case 'mkdir': return `mkdir ${a.path} (mode ${a.mode.toString(8)})`
    case 'write': return `write ${a.path} (mode ${a.mode.toString(8)}, ${a.secret === true ? 'contains the enrollment token' : `${a.content.length} bytes`})`
    case 'copy': return `copy ${a.from} -> ${a.path} (mode ${a.mode.toString(8)})`
    case 'remove': return `remove ${a.path}`
    case 'chown': return `chown ${a.user} ${a.path}`
    case 'run': return `run ${a.argv.map(x => /\s/.test(x) ? `"${x}"` : x).join(' ')}`
  }
}

/**
 * Carries out a plan. Files go under `root`; commands run only when root is '/'
 * (otherwise they are returned as skipped). With `dryRun`, nothing happens.
 */
export function apply (actions: readonly Action[], opts: { root?: string, dryRun?: boolean, log?: (line: string) => void }): { done: string[], skipped: string[] } {
  const root = opts.root ?? '/'
  const real = root === '/'
  const done: string[] = []
  const skipped: string[] = []
  for (const a of actions) {
    const line = describe(a)
    if (opts.dryRun === true || ((a.kind === 'run' || a.kind === 'chown') && !real)) { skipped.push(line); opts.log?.(`[skip] ${line}`); continue }
    const p = a.kind === 'run' ? '' : underRoot(root, a.path)
    if (a.kind === 'mkdir') fs.mkdirSync(p, { recursive: true, mode: a.mode })
    else if (a.kind === 'write') {
      // Write to a temp name with the final mode, then rename: the token is never readable by others, even briefly.
      const tmp = `${p}.${process.pid}.tmp`
      fs.writeFileSync(tmp, a.content, { mode: a.mode })
      fs.chmodSync(tmp, a.mode)
      fs.renameSync(tmp, p)
    } else if (a.kind === 'copy') {
      if (path.resolve(a.from) !== path.resolve(p)) fs.copyFileSync(a.from, p)
      fs.chmodSync(p, a.mode)
    } else if (a.kind === 'remove') fs.rmSync(p, { recursive: true, force: true })
    else if (a.kind === 'chown') execFileSync('chown', [a.user, p])
    else {
      try {
        execFileSync(a.argv[0], a.argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] })
      } catch (err) {
        if (a.ignoreFailure !== true) throw new Error(`${line} failed: ${(err as Error).message}`, { cause: err })
      }
    }
    done.push(line)
    opts.log?.(`[done] ${line}`)
  }
  return { done, skipped }
}
