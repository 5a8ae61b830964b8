// Stripe's Payouts API, read-only: GET /v1/payouts (newest first, `limit`, `starting_after`) and
// GET /v1/payouts/:id, over the same payouts the native API and the dashboard show, bound to the
// key's merchant (another merchant's payout is the same 404 as one that does not exist). Stripe's
// Payout object's fields; those this gateway does not model are null.
import { findPayout, listPayouts } from '../../storage/payouts.ts';
import type { PayoutRow } from '../../storage/payout-tables.ts';
import type { StripeDeps, StripeRouter } from './context.ts';
import { resourceMissing } from './errors.ts';
import { allowOnly } from './form.ts';
import { cursorParam, listLimit } from './list-params.ts';

const unix = (d: Date) => Math.floor(d.getTime() / 1000);

/** A payout as Stripe's Payout object. */
export function payoutObject(p: PayoutRow) {
  const failed = p.status === 'failed';
  return {
    id: p.id,
    object: 'payout' as const,
    amount: Number(p.amountMinor),
    application_fee: null,
    application_fee_amount: null,
    // When it arrived; until then, when it was made (Stripe's expected date; the bank pays at once here).
    arrival_date: unix(p.arrivedAt ?? p.createdAt),
    automatic: null,
    balance_transaction: null,
    created: unix(p.createdAt),
    currency: p.currency.toLowerCase(),
    description: null,
    destination: null,
    failure_balance_transaction: null,
    // The bank's refusal is Stripe's `declined` ("the bank has declined this transfer").
    failure_code: failed ? 'declined' : null,
    failure_message: failed ? `The bank refused the payout (${p.failureCode ?? 'refused'}).` : null,
    livemode: false,
    metadata: {},
    method: 'standard' as const,
    original_payout: null,
    // The payments a payout covers are known when it is made.
    reconciliation_status: 'completed' as const,
    reversed_by: null,
    source_type: 'card' as const,
    statement_descriptor: null,
    status: p.status,
    trace_id: null,
    type: 'bank_account' as const,
    payout_method: null,
  };
}

/** Registers GET /v1/payouts and GET /v1/payouts/:id. */
export function payoutRoutes(router: StripeRouter, deps: StripeDeps): void {
  const { database } = deps.gateway;
  router.get('/v1/payouts', async (c) => {
    const p = c.env.params;
    allowOnly(p, ['limit', 'starting_after']);
    const limit = listLimit(p);
    const found = await listPayouts(database.db, c.env.merchant.id, {
      limit: limit + 1,
      before: cursorParam(p, 'starting_after'),
    });
    return c.json({
      object: 'list',
      data: found.slice(0, limit).map(payoutObject),
      has_more: found.length > limit,
      url: '/v1/payouts',
    });
  });
  router.get('/v1/payouts/:id', async (c) => {
    allowOnly(c.env.params, []);
    const id = c.req.param('id');
    const p = await findPayout(database.db, c.env.merchant.id, id);
    if (!p) throw resourceMissing('payout', id);
    return c.json(payoutObject(p), 200);
  });
}
