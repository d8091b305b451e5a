/**
 * Temporary folders for tests. `tempDir(t)` is the usual one: the folder goes away
 * with the test. `ownedTempDir()` is for a caller that owns the lifetime itself
 * (a helper that removes it in its own close, or a folder kept on purpose).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** What tempDir needs of a tap test: teardowns run last-added first, so a folder made early outlives what uses it. */
export interface Teardown { teardown: (fn: () => unknown) => void }

/** A new empty folder under the OS temp folder; the caller removes it (`removeDir`). */
export function ownedTempDir (prefix = 'vigie-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** Removes a folder and everything in it; no error if it is already gone. */
export function removeDir (dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true })
}

/** A new empty folder, removed in `t`'s teardown. */
export function tempDir (t: Teardown, prefix = 'vigie-test-'): string {
  const dir = ownedTempDir(prefix)
  t.teardown(() => { removeDir(dir) })
  return dir
}
