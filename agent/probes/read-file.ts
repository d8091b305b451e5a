/**
 * Small readers for /proc and /sys. Every probe takes a `root` so tests can point
 * it at a recorded tree under test/fixtures/agent/; in production root is '/'.
 * Reading these files spawns nothing and costs microseconds.
 *
 * They read synchronously behind an async signature: kernel-generated files are
 * answered from memory, and fs/promises' readFile makes four thread-pool round
 * trips (open, fstat, read, close) per file, which cost the agent more CPU than
 * the reading itself (bench/agent-footprint.ts).
 */
import fs from 'node:fs'
import path from 'node:path'

/** The file's text, or undefined when it is absent or unreadable (no such hardware, no permission). */
export async function readText (root: string, file: string): Promise<string | undefined> {
  try {
    return fs.readFileSync(path.join(root, file), 'utf8')
  } catch {
    return undefined
  }
}

/** A file holding one number (sysfs style), or undefined. */
export async function readNumber (root: string, file: string): Promise<number | undefined> {
  const t = await readText(root, file)
  if (t === undefined) return undefined
  const n = Number(t.trim())
  return t.trim() === '' || !Number.isFinite(n) ? undefined : n
}

/** A file's first line, trimmed, or undefined. */
export async function readLine (root: string, file: string): Promise<string | undefined> {
  const t = await readText(root, file)
  const line = t?.split('\n')[0]?.trim()
  return line === undefined || line === '' ? undefined : line
}

/** Entries of a folder, or [] when it is absent. */
export async function listDir (root: string, dir: string): Promise<string[]> {
  try {
    return fs.readdirSync(path.join(root, dir)).sort()
  } catch {
    return []
  }
}
