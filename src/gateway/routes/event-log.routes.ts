// The event log's read side under /v1 (behind the API-key auth of api.routes.ts): one event with its
// deliveries and attempts, and the live stream. A merchant only ever sees its own events: every query
// is by the key's merchant, and another merchant's event id answers 404 like an unknown one.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { DomainError } from '../../core/errors.ts';
import type { Database } from '../../platform/db/database.ts';
import type { AppEnv } from '../../platform/http/app.ts';
import type { EventBell } from '../storage/event-bell.ts';
import { findMerchantEvent, latestCursor } from '../storage/event-log.ts';
import { listEvents, type EventPayload } from '../storage/events.ts';
import type { MerchantRow } from '../storage/tables.ts';
import { getEventRoute, streamEventsRoute } from './event-log.contract.ts';
import { resumeCursor, streamEvents } from './event-stream.ts';

type Env = AppEnv<{ merchant: MerchantRow }>;

/** Adds GET /events/stream and GET /events/{id} to the /v1 router (the stream first: "stream" is no id). */
export function addEventLogRoutes(router: OpenAPIHono<Env>, deps: { database: Database; bell: EventBell }): void {
  const { database, bell } = deps;

  router.openapi(streamEventsRoute, async (c) => {
    const merchantId = c.get('merchant').id;
    const resume = resumeCursor(c.req.valid('header')['last-event-id'], c.req.valid('query').after);
    return streamEvents(c, bell, {
      merchantId,
      format: 'native',
      after: resume ?? (await latestCursor(database.db, merchantId)),
      page: async (after, limit) =>
        (await listEvents(database.db, merchantId, after, limit)).map((e) => ({
          cursor: e.cursor,
          type: e.type,
          payload: e.payload as EventPayload,
        })),
    }) as never;
  });

  router.openapi(getEventRoute, async (c) => {
    const found = await findMerchantEvent(database.db, c.get('merchant').id, c.req.valid('param').id);
    if (!found) throw new DomainError('not_found', { resource: 'event' });
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    return c.json(
      {
        cursor: found.event.cursor.toString(),
        ...(found.event.payload as EventPayload),
        deliveries: found.deliveries.map(({ delivery: d, attempts }) => ({
          id: d.id,
          status: d.status,
          attempts: d.attempts,
          last_status_code: d.lastStatusCode,
          next_attempt_at: iso(d.nextAttemptAt),
          attempt_log: attempts.map((a) => ({
            attempt: a.attempt,
            url: a.url,
            status_code: a.statusCode,
            latency_ms: a.latencyMs,
            error: a.error,
            response_excerpt: a.responseExcerpt,
            at: a.createdAt.toISOString(),
          })),
        })),
      },
      200,
    );
  });
}
