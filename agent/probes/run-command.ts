/**
 * Runs an external command for a probe (smartctl, dpkg-query, PowerShell…) with a
 * time and output bound, and never throws for a non-zero exit: many tools use the
 * exit status as a bit mask of findings (smartctl), not as failure.
 */
import { execFile } from 'node:child_process'

export interface CommandResult {
  /** exit status; null when killed (timeout) */
  code: number | null
  stdout: string
  stderr: string
}

export class CommandError extends Error {
  constructor (message: string, readonly code: 'ENOENT' | 'EACCES' | 'TIMEOUT' | 'TOO_LARGE' | 'FAILED') {
    super(message)
    this.name = 'CommandError'
  }
}

/**
 * Runs `file args`, resolving with its output whatever its exit status.
 * Rejects with CommandError when the command is missing, not permitted,
 * overruns `timeoutMs`, or writes more than `maxBytes`.
 */
export function runCommand (file: string, args: readonly string[], opts: { timeoutMs: number, maxBytes?: number, env?: NodeJS.ProcessEnv }): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, {
      timeout: opts.timeoutMs,
      maxBuffer: opts.maxBytes ?? 16 * 1024 * 1024,
      windowsHide: true,
      encoding: 'utf8',
      // A stable C locale keeps tools' output parseable whatever the user's language.
      env: opts.env ?? { ...process.env, LC_ALL: 'C', LANG: 'C' }
    }, (err, stdout, stderr) => {
      if (err === null) { resolve({ code: 0, stdout, stderr }); return }
      const e = err as NodeJS.ErrnoException & { killed?: boolean, code?: string | number, signal?: string }
      if (e.code === 'ENOENT') { reject(new CommandError(`${file} not found`, 'ENOENT')); return }
      if (e.code === 'EACCES') { reject(new CommandError(`${file}: permission denied`, 'EACCES')); return }
      if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') { reject(new CommandError(`${file} wrote more than ${opts.maxBytes ?? 16 * 1024 * 1024} bytes`, 'TOO_LARGE')); return }
      if (e.killed === true || e.signal === 'SIGTERM') { reject(new CommandError(`${file} timed out after ${opts.timeoutMs} ms`, 'TIMEOUT')); return }
      if (typeof e.code === 'number') { resolve({ code: e.code, stdout, stderr }); return }
      reject(new CommandError(`${file}: ${e.message}`, 'FAILED'))
    })
  })
}
