/**
 * The on-disk spool of reports not yet acknowledged: one file per report,
 * written to a temp name, fsynced, then renamed, so a power loss leaves either
 * the whole report or nothing. A damaged file (torn by a crash on a filesystem
 * without atomic rename) is skipped and removed, never fatal.
 * Bounded by size and age: the oldest reports go first, and are counted.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Report } from '../protocol/index.js'

export interface SpoolOptions {
  dir: string
  maxBytes: number
  maxAgeMs: number
  now?: () => number
  /** told each time reports are dropped, with how many */
  onDrop?: (count: number, reason: DropReason) => void
}

export type DropReason = 'size' | 'age' | 'damaged' | 'disk-full'

interface Entry { seq: number, bytes: number, sampledMs: number }

const NAME = /^(\d{16})\.json$/

export class Spool {
  readonly #dir: string
  readonly #maxBytes: number
  readonly #maxAgeMs: number
  readonly #now: () => number
  readonly #onDrop: SpoolOptions['onDrop']
  /** ascending by seq */
  #entries: Entry[] = []
  #bytes = 0

  constructor (opts: SpoolOptions) {
    this.#dir = opts.dir
    this.#maxBytes = opts.maxBytes
    this.#maxAgeMs = opts.maxAgeMs
    this.#now = opts.now ?? Date.now
    this.#onDrop = opts.onDrop
    fs.mkdirSync(this.#dir, { recursive: true, mode: 0o700 })
    this.#scan()
  }

  get count (): number { return this.#entries.length }
  get bytes (): number { return this.#bytes }
  /** highest seq in the spool, 0 if empty */
  get maxSeq (): number { return this.#entries.at(-1)?.seq ?? 0 }

  #file (seq: number): string {
    return path.join(this.#dir, String(seq).padStart(16, '0') + '.json')
  }

  #scan (): void {
    let damaged = 0
    for (const name of fs.readdirSync(this.#dir)) {
      const m = NAME.exec(name)
      const full = path.join(this.#dir, name)
      if (m === null) {
        // Leftover temp files from a crash mid-write.
        if (name.endsWith('.tmp')) fs.rmSync(full, { force: true })
        continue
      }
      try {
        const buf = fs.readFileSync(full)
        const r = JSON.parse(buf.toString('utf8')) as Report
        const sampledMs = Date.parse(r.sampledAt)
        if (r.seq !== Number(m[1]) || typeof r.agentId !== 'string' || Number.isNaN(sampledMs)) throw new Error('not a report')
        this.#entries.push({ seq: r.seq, bytes: buf.length, sampledMs })
        this.#bytes += buf.length
      } catch {
        fs.rmSync(full, { force: true })
        damaged++
      }
    }
    this.#entries.sort((a, b) => a.seq - b.seq)
    if (damaged > 0) this.#onDrop?.(damaged, 'damaged')
  }

  /**
   * Adds a report durably (written, fsynced, renamed, folder fsynced), then
   * enforces the bounds. On a full disk, drops the oldest reports (counted) until
   * the new one fits; throws only when even an empty spool cannot take it.
   */
  add (report: Report): void {
    const buf = Buffer.from(JSON.stringify(report))
    for (;;) {
      try {
        this.#write(report.seq, buf)
        break
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if ((code !== 'ENOSPC' && code !== 'EDQUOT') || this.#entries.length === 0) throw err
        this.#remove(0)
        this.#onDrop?.(1, 'disk-full')
      }
    }
    this.#entries.push({ seq: report.seq, bytes: buf.length, sampledMs: Date.parse(report.sampledAt) })
    this.#bytes += buf.length
    this.enforceBounds()
  }

  #write (seq: number, buf: Buffer): void {
    const file = this.#file(seq)
    const tmp = file + '.tmp'
    try {
      const fd = fs.openSync(tmp, 'w', 0o600)
      try {
        fs.writeSync(fd, buf)
        fs.fsyncSync(fd)
      } finally {
        fs.closeSync(fd)
      }
      fs.renameSync(tmp, file)
    } catch (err) {
      fs.rmSync(tmp, { force: true })
      throw err
    }
    this.#syncDir()
  }

  /** The rename itself is durable only once the folder is synced (POSIX); Windows cannot open folders, and NTFS journals renames. */
  #syncDir (): void {
    if (process.platform === 'win32') return
    let fd: number | undefined
    try {
      fd = fs.openSync(this.#dir, 'r')
      fs.fsyncSync(fd)
    } catch { /* best effort */ } finally {
      if (fd !== undefined) fs.closeSync(fd)
    }
  }

  /** Drops the oldest reports past the size or age bound. */
  enforceBounds (): void {
    const cutoff = this.#now() - this.#maxAgeMs
    let byAge = 0
    let bySize = 0
    while (this.#entries.length > 0) {
      const first = this.#entries[0]
      if (first.sampledMs < cutoff) byAge++
      else if (this.#bytes > this.#maxBytes && this.#entries.length > 1) bySize++
      else break
      this.#remove(0)
    }
    if (byAge > 0) this.#onDrop?.(byAge, 'age')
    if (bySize > 0) this.#onDrop?.(bySize, 'size')
  }

  #remove (index: number): void {
    const [e] = this.#entries.splice(index, 1)
    this.#bytes -= e.bytes
    fs.rmSync(this.#file(e.seq), { force: true })
  }

  /** The oldest reports, up to `limit` of them and `maxBytes` in total. */
  oldest (limit: number, maxBytes = Infinity): Report[] {
    const out: Report[] = []
    let bytes = 0
    for (const e of this.#entries) {
      if (out.length >= limit || (out.length > 0 && bytes + e.bytes > maxBytes)) break
      try {
        const r = JSON.parse(fs.readFileSync(this.#file(e.seq), 'utf8')) as Report
        if (r.seq !== e.seq) throw new Error('not this report')
        out.push(r)
        bytes += e.bytes
      } catch {
        // Vanished or damaged since the scan: forget it.
        this.#remove(this.#entries.indexOf(e))
        this.#onDrop?.(1, 'damaged')
        return this.oldest(limit, maxBytes)
      }
    }
    return out
  }

  /** Reports spooled under another identity (a state file lost, the spool kept) carry the old id: re-stamp them with `agentId`. */
  restamp (agentId: string): void {
    for (const r of this.oldest(Number.MAX_SAFE_INTEGER)) {
      if (r.agentId !== agentId) { this.ack([r.seq]); this.add({ ...r, agentId }) }
    }
  }

  /** Forgets acknowledged reports (stored or duplicate: either way the collector has them). */
  ack (seqs: readonly number[]): void {
    if (seqs.length === 0) return
    const done = new Set(seqs)
    const keep: Entry[] = []
    for (const e of this.#entries) {
      if (done.has(e.seq)) {
        this.#bytes -= e.bytes
        fs.rmSync(this.#file(e.seq), { force: true })
      } else keep.push(e)
    }
    this.#entries = keep
  }
}
