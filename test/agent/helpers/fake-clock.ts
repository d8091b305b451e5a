/**
 * Fake timers and clock for agent tests (Node's own MockTimers: setTimeout and
 * Date), advanced one millisecond at a time (by default) so that promise
 * continuations between timers run in order, as they would in real time.
 */
import { mock } from 'node:test'

export interface FakeClock {
  /**
   * Moves time forward by `ms`, firing what falls due. `stepMs` (default 1)
   * trades exactness for speed over hours: a timer then fires at the end of
   * the step it falls in.
   */
  advance: (ms: number, stepMs?: number) => Promise<void>
  /** puts the real timers and Date back */
  restore: () => void
}

export function fakeClock (startMs: number): FakeClock {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: startMs })
  return {
    advance: async (ms: number, stepMs = 1) => {
      for (let done = 0; done < ms;) {
        const step = Math.min(stepMs, ms - done)
        mock.timers.tick(step)
        done += step
        // setImmediate is not faked: one turn lets the continuations of what fired run.
        await new Promise(resolve => setImmediate(resolve))
      }
    },
    restore: () => { mock.timers.reset() }
  }
}
