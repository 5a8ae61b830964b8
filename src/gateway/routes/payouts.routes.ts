// GET /v1/payouts and GET /v1/payouts/{id} (behind the API-key auth of api.routes.ts): the calling
// merchant's payouts and the payments each covers — another merchant's payout id answers 404, as an
// unknown one does (every query is bound to the key's merchant).
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { DomainError } from '../../core/errors.ts';
import type { Database } from '../../platform/db/database.ts';
import type { AppEnv } from '../../platform/http/app.ts';
import { findPayout, itemsOf, listPayouts } from '../storage/payouts.ts';
import type { PayoutItemRow, PayoutRow } from '../storage/payout-tables.ts';
import type { MerchantRow } from '../storage/tables.ts';
import { errorSchema, moneySchema } from './views.ts';

type Env = AppEnv<{ merchant: MerchantRow }>;

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

export const payoutSchema = z
  .object({
    id: z.string().openapi({ example: 'po_01JD0000000000000000000000' }),
    object: z.literal('payout'),
    amount: moneySchema,
    status: z.enum(['pending', 'paid', 'failed']).openapi({
      description:
        'pending: sent to the bank; paid: credited to your bank account; failed: refused, the amount is back in available',
    }),
    failure_code: z.string().nullable(),
    created: z.string().openapi({ description: 'ISO 8601' }),
    arrival_date: z
      .string()
      .nullable()
      .openapi({ description: 'When the bank credited it (ISO 8601); null until paid' }),
    payments: z
      .array(
        z
          .object({
            payment_session: z.string(),
            captured: moneySchema,
            fee: moneySchema,
          })
          .openapi('PayoutPayment'),
      )
      .optional()
      .openapi({ description: 'The captured payments it covers (on GET /v1/payouts/{id})' }),
  })
  .openapi('Payout');

const listSchema = z.object({ object: z.literal('list'), data: z.array(payoutSchema), has_more: z.boolean() });

export const listPayoutsRoute = createRoute({
  method: 'get',
  path: '/payouts',
  security: [{ bearerAuth: [] }],
  summary: 'Your payouts to your bank account, newest first',
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).default(20),
      starting_after: z.string().max(64).optional().openapi({ description: 'A payout id: the page after it' }),
    }),
  },
  responses: {
    200: { description: 'The payouts', content: json(listSchema) },
    401: { description: 'Missing or invalid API key', content: json(errorSchema) },
  },
});

export const getPayoutRoute = createRoute({
  method: 'get',
  path: '/payouts/{id}',
  security: [{ bearerAuth: [] }],
  summary: 'One payout, with the captured payments it covers',
  request: { params: z.object({ id: z.string().min(1).max(64) }) },
  responses: {
    200: { description: 'The payout', content: json(payoutSchema) },
    401: { description: 'Missing or invalid API key', content: json(errorSchema) },
    404: { description: 'No such payout for this merchant', content: json(errorSchema) },
  },
});

const m = (minor: bigint, currency: string) => ({ minor: minor.toString(), currency });

/** The native view of a payout (with its payments when given). */
export function payoutView(p: PayoutRow, items?: readonly PayoutItemRow[]) {
  return {
    id: p.id,
    object: 'payout' as const,
    amount: m(p.amountMinor, p.currency),
    status: p.status,
    failure_code: p.failureCode,
    created: p.createdAt.toISOString(),
    arrival_date: p.arrivedAt?.toISOString() ?? null,
    ...(items
      ? {
          payments: items.map((i) => ({
            payment_session: i.sessionId,
            captured: m(i.capturedMinor, p.currency),
            fee: m(i.feeMinor, p.currency),
          })),
        }
      : {}),
  };
}

/** Adds GET /payouts and GET /payouts/{id} to the /v1 router. */
export function addPayoutRoutes(router: OpenAPIHono<Env>, deps: { database: Database }): void {
  router.openapi(listPayoutsRoute, async (c) => {
    const { limit, starting_after } = c.req.valid('query');
    const found = await listPayouts(deps.database.db, c.get('merchant').id, {
      limit: limit + 1,
      before: starting_after,
    });
    return c.json(
      {
        object: 'list' as const,
        data: found.slice(0, limit).map((p) => payoutView(p)),
        has_more: found.length > limit,
      },
      200,
    );
  });
  router.openapi(getPayoutRoute, async (c) => {
    const p = await findPayout(deps.database.db, c.get('merchant').id, c.req.valid('param').id);
    if (!p) throw new DomainError('not_found', { resource: 'payout' });
    return c.json(payoutView(p, await itemsOf(deps.database.db, p.id)), 200);
  });
}
