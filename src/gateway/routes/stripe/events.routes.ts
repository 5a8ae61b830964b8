// GET /v1/events and GET /v1/events/{id} of the Stripe dialect: the merchant's Stripe-format events,
// newest first, with Stripe's list semantics (limit, starting_after, ending_before, type with `*`
// wildcards, types[], created[...], has_more). Events are kept with no expiry (Stripe keeps 30 days).
// Another merchant's event is `resource_missing`, exactly as one that does not exist.
import type { Database } from '../../../platform/db/database.ts';
import { findStripeEvent, listStripeEvents, pendingWebhooks } from '../../storage/stripe-events.ts';
import type { StripeEventRow } from '../../storage/stripe-tables.ts';
import type { StripeDeps, StripeRouter } from './context.ts';
import { invalidParam, resourceMissing } from './errors.ts';
import { createdRange, cursorParam, listLimit } from './list-params.ts';

/** The stored event with its current `pending_webhooks`. */
function eventView(row: StripeEventRow, pending: Map<string, number>): Record<string, unknown> {
  return { ...(row.payload as Record<string, unknown>), pending_webhooks: pending.get(row.id) ?? 0 };
}

/** `type` (one pattern, `*` wildcards) and `types[]` (up to 20 exact names), as a list of patterns. */
function typeFilters(params: Record<string, unknown>): string[] | undefined {
  const { type, types } = params;
  if (type !== undefined && types !== undefined)
    throw invalidParam('types', 'You may only specify one of these parameters: type, types.');
  if (type !== undefined) {
    if (typeof type !== 'string' || type.length > 100 || !/^[a-z_.*]+$/.test(type))
      throw invalidParam('type', 'Invalid string: type');
    // A pattern matching none of the types we emit is still a valid filter: it lists nothing.
    return [type];
  }
  if (types === undefined) return undefined;
  const list = Array.isArray(types) ? types : [types];
  if (list.length > 20 || list.some((t) => typeof t !== 'string' || t.length > 100))
    throw invalidParam('types', 'Invalid array: types holds up to 20 event type names.');
  return list as string[];
}

/** Resolves a cursor parameter to the event's feed position; 404 naming it when not this merchant's. */
async function cursorOf(
  database: Database,
  merchantId: string,
  id: string | undefined,
  param: string,
): Promise<bigint | undefined> {
  if (id === undefined) return undefined;
  const row = await findStripeEvent(database.db, merchantId, id);
  if (!row) throw resourceMissing('event', id, param);
  return row.cursor;
}

/** GET /v1/events and GET /v1/events/{id}. */
export function eventRoutes(router: StripeRouter, deps: StripeDeps): void {
  const { database } = deps.gateway;

  router.get('/v1/events', async (c) => {
    const { merchant, params } = c.env;
    const limit = listLimit(params);
    const types = typeFilters(params);
    const created = createdRange(params);
    const startingAfter = await cursorOf(
      database,
      merchant.id,
      cursorParam(params, 'starting_after'),
      'starting_after',
    );
    const endingBefore = await cursorOf(database, merchant.id, cursorParam(params, 'ending_before'), 'ending_before');
    const { rows, hasMore } = await listStripeEvents(database.db, {
      merchantId: merchant.id,
      limit,
      ...(startingAfter === undefined ? {} : { startingAfter }),
      ...(endingBefore === undefined ? {} : { endingBefore }),
      ...(types ? { types } : {}),
      ...(created ? { created } : {}),
    });
    const pending = await pendingWebhooks(
      database.db,
      rows.map((r) => r.id),
    );
    return c.json({
      object: 'list',
      data: rows.map((r) => eventView(r, pending)),
      has_more: hasMore,
      url: '/v1/events',
    });
  });

  router.get('/events/:id', async (c) => {
    const id = c.req.param('id');
    const row = await findStripeEvent(database.db, c.env.merchant.id, id);
    if (!row) throw resourceMissing('event', id);
    return c.json(eventView(row, await pendingWebhooks(database.db, [row.id])));
  });
}
