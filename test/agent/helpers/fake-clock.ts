/**
 * Fake timers and clock for agent tests (Node's own MockTimers: setTimeout and
 * Date), advanced one millisecond at a time so that promise continuations
 * between timers run in order, as they would in real time.
 */
import { mock } from 'node:test'

export interface FakeClock {
  /** moves time forward by `ms`, firing what falls due */
  advance: (ms: number) => Promise<void>
  /** puts the real timers and Date back */
  restore: () => void
}

export function fakeClock (startMs: number): FakeClock {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: startMs })
  return {
    advance: async (ms: number) => {
      for (let i = 0; i < ms; i++) {
        mock.timers.tick(1)
        // setImmediate is not faked: one turn lets the continuations of what fired run.
        await new Promise(resolve => setImmediate(resolve))
      }
    },
    restore: () => { mock.timers.reset() }
  }
}
