/**
 * The library never prints: capabilities report what they do as typed events.
 * The CLI renders them, the server streams them, tests collect them.
 */
export type GoldgateEvent =
  | { type: 'progress'; step: string; message: string; done?: boolean; elapsedMs?: number }
  | { type: 'warning'; message: string; path?: string }
  | { type: 'finding'; rule: string; severity: string; message: string };

export interface EventSink {
  emit(event: GoldgateEvent): void;
}

/** A sink that drops every event, for callers that do not listen. */
export const silent: EventSink = { emit: () => undefined };

/** A sink that keeps every event in memory, for tests and for building reports. */
export function collectingSink(): EventSink & { events: GoldgateEvent[] } {
  const events: GoldgateEvent[] = [];
  return { events, emit: (event) => void events.push(event) };
}
