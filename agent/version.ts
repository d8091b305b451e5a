/** The agent's version, reported in every report's host facts. */
export const AGENT_VERSION = '0.1.0'
