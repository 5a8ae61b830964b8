// Stripe's GET /v1/balance for a Stripe-dialect key: the merchant's own ledger balance as a Stripe
// Balance object, so `stripe.balance.retrieve()` reads it. The query is bound to the key's merchant.
// On this gateway a capture is available at once (no settlement delay), so Stripe's `available` is the
// ledger's available balance and `pending` holds what is authorised and not yet captured; the
// gateway's fees and refunds are already out of `available`, as in Stripe. Connect's
// `connect_reserved` and `instant_available` are not modelled and so absent.
import { merchantBalances } from '../../domain/ledger.balance.ts';
import { merchantLedgerAccounts } from '../../storage/ledger.ts';
import type { StripeDeps, StripeRouter } from './context.ts';
import { allowOnly } from './form.ts';

const fund = (minor: bigint, currency: string) => {
  const amount = Number(minor);
  return { amount, currency: currency.toLowerCase(), source_types: { card: amount } };
};

/** Registers GET /v1/balance. */
export function balanceRoutes(router: StripeRouter, deps: StripeDeps): void {
  router.get('/v1/balance', async (c) => {
    allowOnly(c.env.params, []);
    const balances = merchantBalances(await merchantLedgerAccounts(deps.gateway.database.db, c.env.merchant.id));
    return c.json({
      object: 'balance',
      available: balances.map((b) => fund(b.available, b.currency)),
      pending: balances.map((b) => fund(b.pending, b.currency)),
      livemode: false,
    });
  });
}
