/**
 * VIGIE_MIN_FREE_DISK_MB at its bound, on a real tmpfs: exactly the bound free is
 * ready, one byte less is not (with the reason).
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { DiskSpace } from '../../collector/ops/disk.js'
import { tempDir } from '../helpers/temp.js'

t.test('free space exactly at the bound is ready; one byte under is not', async t => {
  const dir = tempDir(t, 'vigie-disk-bound-')
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir])
  t.teardown(() => { execFileSync('umount', [dir]) })
  fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(1024 * 1024, 1))
  const st = fs.statfsSync(dir)
  const free = st.bavail * st.bsize
  t.equal((await new DiskSpace(dir, free).check()).ok, true, 'at the bound: ready')
  const under = await new DiskSpace(dir, free + 1).check()
  t.equal(under.ok, false, 'one byte under: not ready')
  t.match(under.error, /the disk of the data folder is \(nearly\) full/)
  t.equal((await new DiskSpace(dir, 0).check()).ok, true, '0 turns the check off')
  // cached: a change within the cache time is seen after it
  let now = 0
  const d = new DiskSpace(dir, free, { cacheMs: 2000, now: () => now })
  t.equal((await d.check()).ok, true)
  fs.writeFileSync(path.join(dir, 'more'), Buffer.alloc(64 * 1024, 1))
  t.equal((await d.check()).ok, true, 'cached answer')
  now = 2000
  t.equal((await d.check()).ok, false, 'checked again after the cache time')
})
