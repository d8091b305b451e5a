/** Waits for a condition with a bound; never a bare sleep. */
export async function waitFor<T> (
  check: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { timeoutMs?: number, intervalMs?: number, what?: string } = {}
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000)
  let lastErr: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v
    } catch (err) {
      lastErr = err
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${opts.timeoutMs ?? 10_000} ms waiting for ${opts.what ?? 'condition'}${lastErr !== undefined ? `; last error: ${String(lastErr)}` : ''}`)
    }
    await new Promise(resolve => setTimeout(resolve, opts.intervalMs ?? 50))
  }
}
