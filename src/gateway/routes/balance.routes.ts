// GET /v1/balance (behind the API-key auth of api.routes.ts): the calling merchant's own balance from
// the ledger, per currency — never another merchant's (the query is bound to the key's merchant).
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Database } from '../../platform/db/database.ts';
import type { AppEnv } from '../../platform/http/app.ts';
import { merchantBalances } from '../domain/ledger.balance.ts';
import { merchantLedgerAccounts } from '../storage/ledger.ts';
import type { MerchantRow } from '../storage/tables.ts';
import { errorSchema } from './views.ts';

type Env = AppEnv<{ merchant: MerchantRow }>;

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

const signedMoney = z
  .object({
    minor: z
      .string()
      .regex(/^-?(0|[1-9][0-9]{0,18})$/)
      .openapi({ example: '2470', description: 'minor units; available may be negative (a refund after a fee)' }),
    currency: z.string().openapi({ example: 'EUR' }),
  })
  .openapi('SignedMoney');

export const balanceSchema = z
  .object({
    object: z.literal('balance'),
    data: z.array(
      z
        .object({
          currency: z.string(),
          pending: signedMoney.openapi({ description: 'Authorised, not yet captured' }),
          available: signedMoney.openapi({ description: 'Captured, net of fees and refunds' }),
          fees: signedMoney.openapi({ description: 'Fees taken by the gateway, in total' }),
          refunded: signedMoney.openapi({ description: 'Refunded to cardholders, in total' }),
        })
        .openapi('BalanceInCurrency'),
    ),
  })
  .openapi('Balance');

export const getBalanceRoute = createRoute({
  method: 'get',
  path: '/balance',
  security: [{ bearerAuth: [] }],
  summary: "The merchant's balance from the gateway's ledger, per currency (empty before the first authorisation)",
  responses: {
    200: { description: 'The balance', content: json(balanceSchema) },
    401: { description: 'Missing or invalid API key', content: json(errorSchema) },
  },
});

/** Adds GET /balance to the /v1 router. */
export function addBalanceRoutes(router: OpenAPIHono<Env>, deps: { database: Database }): void {
  router.openapi(getBalanceRoute, async (c) => {
    const balances = merchantBalances(await merchantLedgerAccounts(deps.database.db, c.get('merchant').id));
    const m = (minor: bigint, currency: string) => ({ minor: minor.toString(), currency });
    const data = balances.map((b) => ({
      currency: b.currency,
      pending: m(b.pending, b.currency),
      available: m(b.available, b.currency),
      fees: m(b.fees, b.currency),
      refunded: m(b.refunded, b.currency),
    }));
    return c.json({ object: 'balance' as const, data }, 200);
  });
}
