/** The proxmon wire protocol and sample payloads, shared by agent and server. */
export * from "./protocol.ts";
export * from "./samples.ts";
export * from "./payload_parser.ts";
export * from "./close_codes.ts";
