/**
 * The protocol values the agent needs at run time. protocol/index.ts builds
 * every TypeBox schema as it loads (~190 kB of library and several MB of
 * heap the agent never uses: the collector validates, the agent does not),
 * so the agent imports only types from it, and these values.
 * test/agent/wire.test.ts checks they equal the protocol's.
 */
export const PROTOCOL_VERSION = 1
export const LIMITS = {
  maxMetricsPerReport: 2000,
  maxUnavailablePerReport: 200
} as const
export const TOKEN_ROTATE_HEADER = 'vigie-token-rotate'
/** The stream's close codes the agent acts on. */
export const STREAM_CLOSE = {
  unauthorized: 4001,
  badFrame: 4400,
  tooLarge: 1009,
  revoked: 4010
} as const
