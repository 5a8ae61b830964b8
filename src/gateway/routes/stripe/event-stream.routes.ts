// GET /v1/events/stream for Stripe-dialect keys: not one of Stripe's endpoints but this gateway's own
// (Stripe's CLI gets its events over a private connection; ours is a plain SSE stream), so that
// `countersign listen` forwards Stripe-format events as they happen. The same stream as the native
// one (../event-stream.ts), over the merchant's Stripe events: resumed with Last-Event-ID or ?after=.
import { latestStripeCursor, pendingWebhooks, stripeEventsAfter } from '../../storage/stripe-events.ts';
import type { EventBell } from '../../storage/event-bell.ts';
import { resumeCursor, streamEvents } from '../event-stream.ts';
import type { StripeDeps, StripeRouter } from './context.ts';
import { invalidParam } from './errors.ts';

const CURSOR = /^(0|[1-9][0-9]{0,18})$/;

function cursorValue(value: unknown, param: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !CURSOR.test(value))
    throw invalidParam(param, `Invalid ${param}: a stream cursor is a whole number (the id of a streamed message).`);
  return value;
}

/** Adds GET /v1/events/stream (registered before GET /v1/events/:id, where "stream" would be an id). */
export function eventStreamRoutes(router: StripeRouter, deps: StripeDeps & { readonly bell: EventBell }): void {
  const { database } = deps.gateway;
  router.get('/v1/events/stream', async (c) => {
    const merchantId = c.env.merchant.id;
    const resume = resumeCursor(
      cursorValue(c.req.header('last-event-id'), 'Last-Event-ID'),
      cursorValue(c.env.params.after, 'after'),
    );
    return streamEvents(c, deps.bell, {
      merchantId,
      format: 'stripe',
      after: resume ?? (await latestStripeCursor(database.db, merchantId)),
      page: async (after, limit) => {
        const rows = await stripeEventsAfter(database.db, merchantId, after, limit);
        const pending = await pendingWebhooks(
          database.db,
          rows.map((r) => r.id),
        );
        return rows.map((r) => ({
          cursor: r.cursor,
          type: r.type,
          payload: { ...(r.payload as Record<string, unknown>), pending_webhooks: pending.get(r.id) ?? 0 },
        }));
      },
    });
  });
}
