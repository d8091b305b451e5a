/**
 * The frame record of the embedded store (see metrics.ts): one row per machine
 * and sample time, n values as float64 little-endian, then their n series ids
 * as uint32 little-endian (12·n bytes). See docs/storage.md. Also the canonical
 * label JSON that names a series in the `series` table.
 */
import type { Unit } from '../../../protocol/index.js'

/** One value to store: a protocol metric or a SamplePoint. */
export interface ValueLike { name: string, labels?: Record<string, string>, unit: Unit, value: number }

export interface SeriesRow { id: number, name: string, labels_json: string, unit: string }

export const FRAME_MIGRATIONS = [`
  CREATE TABLE frames (
    id INTEGER PRIMARY KEY,
    machine_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    data BLOB NOT NULL
  );
  CREATE UNIQUE INDEX frames_machine_ts ON frames(machine_id, ts);
`]

/** Canonical JSON for a label set: sorted keys, so one series has one row. */
export function labelsJson (labels: Record<string, string> | undefined): string {
  if (labels === undefined) return '{}'
  const keys = Object.keys(labels)
  if (keys.length === 0) return '{}'
  keys.sort()
  const sorted: Record<string, string> = {}
  for (const k of keys) sorted[k] = labels[k]
  return JSON.stringify(sorted)
}

/** Every (series id, value) of a frame record, in stored order. */
export function decodeFrame (data: Buffer): Array<{ id: number, value: number }> {
  const n = data.length / 12
  const out: Array<{ id: number, value: number }> = []
  for (let i = 0; i < n; i++) out.push({ id: data.readUInt32LE(8 * n + 4 * i), value: data.readDoubleLE(8 * i) })
  return out
}

/** Position of `id` in a frame of `n` values, or -1. */
export function findId (data: Buffer, n: number, id: number): number {
  const base = 8 * n
  for (let i = 0; i < n; i++) if (data.readUInt32LE(base + 4 * i) === id) return i
  return -1
}
