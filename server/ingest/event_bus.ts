/**
 * In-process event bus for live updates: the socket layer publishes, the
 * dashboard's live view subscribes. Events are facts that already happened
 * (a committed sample, a status change), never requests.
 */
import type { Interval } from "@proxmon/shared";

/** A sample was committed; read it back from the database if needed. */
export interface SampleEvent {
  type: "sample";
  host: string;
  interval: Interval;
  /** ISO-8601 */
  collected_at: string;
}

/** A host's agent connected (online) or went away (offline). */
export interface StatusEvent {
  type: "status";
  host: string;
  status: "online" | "offline";
}

export type ServerEvent = SampleEvent | StatusEvent;

export type Listener = (event: ServerEvent) => void;

export interface EventBus {
  /** Delivers an event to every current subscriber, synchronously. */
  publish(event: ServerEvent): void;
  /** Adds a listener; call the returned function to remove it. */
  subscribe(fn: Listener): () => void;
}

/**
 * Creates an event bus. A listener that throws is reported through
 * `onListenerError` and does not stop delivery to the others, so a broken
 * dashboard view can never stall ingest.
 */
export function createEventBus(
  onListenerError: (err: unknown) => void = (err) =>
    console.error("event listener failed:", err),
): EventBus {
  const listeners = new Set<Listener>();
  return {
    publish(event) {
      for (const fn of [...listeners]) {
        try {
          fn(event);
        } catch (err) {
          onListenerError(err);
        }
      }
    },
    subscribe(fn) {
      // A wrapper makes each subscription distinct, so subscribing the same
      // function twice and unsubscribing once leaves the other in place.
      const entry: Listener = (e) => fn(e);
      listeners.add(entry);
      return () => listeners.delete(entry);
    },
  };
}
