// Starts a worker thread's entry module. Under the TypeScript runner (development,
// tests) the entry is a .ts file and the thread must register the loader itself:
// worker threads do not inherit the main thread's module hooks on Node 20.
import { workerData } from 'node:worker_threads'

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api')
  register()
}
await import(workerData.entry)
