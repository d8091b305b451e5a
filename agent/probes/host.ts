/**
 * Host facts: name, OS name/version/build, kernel, hardware vendor, model and
 * serial, CPU model and count, memory. One file per OS family: host-linux.ts,
 * host-si.ts (macOS, Windows); this one holds what they share.
 */

/** Firmware placeholders that mean "unknown". */
export function cleanFact (v: string | undefined): string | undefined {
  const t = v?.trim()
  return t === undefined || t === '' || /^(default string|to be filled.*|not specified|none|system product name|system manufacturer|o\.e\.m\.|-|0)$/i.test(t) ? undefined : t.slice(0, 256)
}
