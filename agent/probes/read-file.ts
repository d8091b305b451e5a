/**
 * Small readers for /proc and /sys. Every probe takes a `root` so tests can point
 * it at a recorded tree under test/fixtures/agent/; in production root is '/'.
 * Reading these files spawns nothing and costs microseconds.
 */
import fs from 'node:fs/promises'
import path from 'node:path'

/** The file's text, or undefined when it is absent or unreadable (no such hardware, no permission). */
export async function readText (root: string, file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path.join(root, file), 'utf8')
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
    return (await fs.readdir(path.join(root, dir))).sort()
  } catch {
    return []
  }
}
