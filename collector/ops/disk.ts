/**
 * Free space of the data folder's file system (fs.statfs), for /readyz. The
 * answer is cached for `cacheMs` (2 s): a probe every second costs one statfs
 * call every two seconds at most.
 */
import fs from 'node:fs'

export interface DiskState {
  ok: boolean
  /** bytes available to the collector (statfs bavail × bsize) */
  freeBytes?: number
  minFreeBytes: number
  error?: string
}

export const DISK_CHECK_CACHE_MS = 2000

export class DiskSpace {
  readonly #dir: string
  readonly #minFreeBytes: number
  readonly #cacheMs: number
  readonly #now: () => number
  #cached: { atMs: number, state: DiskState } | undefined

  constructor (dir: string, minFreeBytes: number, opts: { cacheMs?: number, now?: () => number } = {}) {
    this.#dir = dir
    this.#minFreeBytes = minFreeBytes
    this.#cacheMs = opts.cacheMs ?? DISK_CHECK_CACHE_MS
    this.#now = opts.now ?? Date.now
  }

  /** ok when at least `minFreeBytes` are free (exactly the bound is ok); always ok when the bound is 0. */
  async check (): Promise<DiskState> {
    if (this.#minFreeBytes <= 0) return { ok: true, minFreeBytes: 0 }
    const now = this.#now()
    if (this.#cached !== undefined && now - this.#cached.atMs < this.#cacheMs) return this.#cached.state
    let state: DiskState
    try {
      const st = await fs.promises.statfs(this.#dir)
      const freeBytes = st.bavail * st.bsize
      state = freeBytes >= this.#minFreeBytes
        ? { ok: true, freeBytes, minFreeBytes: this.#minFreeBytes }
        : { ok: false, freeBytes, minFreeBytes: this.#minFreeBytes, error: `the disk of the data folder is (nearly) full: ${mib(freeBytes)} free, below VIGIE_MIN_FREE_DISK_MB (${mib(this.#minFreeBytes)}); writes may fail` }
    } catch (err) {
      state = { ok: false, minFreeBytes: this.#minFreeBytes, error: `cannot read the free space of the data folder (${(err as { code?: string }).code ?? 'error'})` }
    }
    this.#cached = { atMs: now, state }
    return state
  }
}

function mib (bytes: number): string {
  return `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 2 : 0)} MiB`
}
