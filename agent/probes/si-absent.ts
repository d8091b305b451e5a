/**
 * Stands in for systeminformation in the Linux single-file build, whose
 * probes read /proc and /sys directly (agent/build/bundle.ts). Any call says so.
 */
const absent = new Proxy({}, {
  get: (_target, name) => () => Promise.reject(new Error(`systeminformation.${String(name)}: not part of this build (Linux probes read /proc and /sys)`))
})
export default absent
