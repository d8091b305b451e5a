/** The only file that imports node-cron: runs a task every N seconds, never overlapping. */
import cron from 'node-cron'

/** A cron expression for "every `sec` seconds", aligned to the wall clock where possible. */
export function cronFor (sec: number): string {
  if (sec < 60 && 60 % sec === 0) return sec === 1 ? '* * * * * *' : `*/${sec} * * * * *`
  if (sec % 60 === 0 && sec < 3600 && 60 % (sec / 60) === 0) return `0 */${sec / 60} * * * *`
  if (sec === 3600) return '0 0 * * * *'
  throw new Error(`interval ${sec}s does not divide a minute or an hour; use 1–6, 10, 12, 15, 20, 30 s or 1–6, 10, 12, 15, 20, 30, 60 min`)
}

export interface Scheduled { stop: () => Promise<void> }

export function every (sec: number, name: string, task: () => Promise<void>): Scheduled {
  const job = cron.schedule(cronFor(sec), task, {
    name,
    noOverlap: true,
    // node-cron prints coloured text on its own unless given a logger.
    logger: { info () {}, warn () {}, error () {}, debug () {} } as never
  })
  return {
    stop: async () => {
      await job.stop()
      await job.destroy()
    }
  }
}
