/** The agent's version, sent in `join` and reported in `system_info`. */
export const AGENT_VERSION = "0.1.0";
