/**
 * The clock lives in `@proxmon/shared/clock`, shared with the agent; this
 * re-export keeps importers that have not moved yet working.
 */
export { type Clock, systemClock, type TimerId } from "@proxmon/shared/clock";
