// The live event stream both dialects serve at GET /v1/events/stream (Server-Sent Events): a first
// `stream.started` message naming the cursor it starts after (and the events' format), then every
// event after it, in cursor order, each with its cursor as the SSE id so that a client resumes with
// Last-Event-ID. Between pages it waits on the merchant's event bell (a commit rings it), with a
// keep-alive comment at each heartbeat; it ends when the client goes or the gateway stops.
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { EventBell } from '../storage/event-bell.ts';

const PAGE = 100;
const HEARTBEAT_MS = 15_000;

/** One event as the stream writes it. */
export interface StreamedEvent {
  readonly cursor: bigint;
  readonly type: string;
  readonly payload: object;
}

export interface EventStreamSource {
  readonly merchantId: string;
  /** `native` (our webhook bodies) or `stripe` (Stripe event objects). */
  readonly format: 'native' | 'stripe';
  /** Where the stream starts: after this cursor. */
  readonly after: bigint;
  /** Up to `limit` events after a cursor, oldest first. */
  page(after: bigint, limit: number): Promise<readonly StreamedEvent[]>;
}

/** A resumption cursor from the Last-Event-ID header or `?after=` (digits only; validated by the caller). */
export function resumeCursor(lastEventId: string | undefined, after: string | undefined): bigint | undefined {
  const value = lastEventId ?? after;
  return value === undefined ? undefined : BigInt(value);
}

/** Streams the source's events until the client leaves or the bell closes. */
export function streamEvents(c: Context, bell: EventBell, source: EventStreamSource): Response {
  let cursor = source.after;
  return streamSSE(c, async (stream) => {
    let open = true;
    stream.onAbort(() => {
      open = false;
    });
    // Tells the client where it starts, so that it can resume from here even before the first event.
    await stream.writeSSE({
      event: 'stream.started',
      id: cursor.toString(),
      data: JSON.stringify({ cursor: cursor.toString(), format: source.format }),
    });
    while (open && !bell.closed) {
      const page = await source.page(cursor, PAGE);
      for (const e of page) {
        const data = { cursor: e.cursor.toString(), ...e.payload };
        await stream.writeSSE({ id: e.cursor.toString(), event: e.type, data: JSON.stringify(data) });
        cursor = e.cursor;
      }
      if (page.length === PAGE) continue;
      await bell.wait(source.merchantId, HEARTBEAT_MS);
      if (open && !bell.closed) await stream.write(': keep-alive\n\n');
    }
  });
}
