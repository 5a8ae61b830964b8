// /v1/refunds: create (of a PaymentIntent or its Charge; the amount defaults to what is left) through
// the native refund command, which never lets refunds exceed the capture; retrieve.
import type { Currency } from '../../../core/money.ts';
import { createRefund } from '../../commands/create-refund.ts';
import { findRefund } from '../../storage/refunds.ts';
import { findSession } from '../../storage/sessions.ts';
import { stripeSession, type StripeDeps, type StripeRouter } from './context.ts';
import { invalidParam, resourceMissing, StripeApiError } from './errors.ts';
import { allowOnly, int, metadata, oneOf, str } from './form.ts';
import { refundObject, stripeIds } from './objects.ts';

/** Registers the Refund routes. */
export function refundRoutes(router: StripeRouter, deps: StripeDeps): void {
  const { database } = deps.gateway;

  router.post('/v1/refunds', async (c) => {
    const p = c.env.params;
    allowOnly(p, ['payment_intent', 'charge', 'amount', 'reason', 'metadata']);
    const pi = str(p, 'payment_intent', 'payment_intent', 100);
    const ch = str(p, 'charge', 'charge', 100);
    if (!pi && !ch)
      throw invalidParam(
        'payment_intent',
        'One of the following params should be provided for this request: payment_intent or charge.',
        'parameter_missing',
      );
    if (pi && ch) throw invalidParam('charge', 'Provide either payment_intent or charge, not both.');
    const s = pi
      ? await stripeSession(database, c.env.merchant.id, pi, 'pi', 'payment_intent')
      : await stripeSession(database, c.env.merchant.id, ch!, 'ch', 'charge');
    const reason = oneOf(p, 'reason', ['duplicate', 'fraudulent', 'requested_by_customer']) ?? null;
    const remainder = s.capturedMinor - s.refundedMinor;
    if (s.capturedMinor > 0n && remainder <= 0n)
      throw new StripeApiError(400, {
        type: 'invalid_request_error',
        code: 'charge_already_refunded',
        message: `Charge ${stripeIds.charge(s.id)} has already been refunded.`,
      });
    const asked = int(p, 'amount');
    if (asked !== undefined && asked < 1)
      throw invalidParam('amount', 'The refund amount must be at least 1.', 'amount_too_small');
    const amount = asked === undefined ? remainder : BigInt(asked);
    const refund = await createRefund(deps.gateway, c.env.merchant.id, {
      sessionId: s.id,
      amount: { minor: amount, currency: s.currency as Currency },
      reason: reason ?? '',
      stripe: { metadata: metadata(p), reason },
    });
    deps.wake();
    return c.json(refundObject(refund), 200);
  });

  router.get('/v1/refunds/:id', async (c) => {
    allowOnly(c.env.params, []);
    const id = c.req.param('id');
    const refundId = stripeIds.refundOf(id);
    const r = refundId ? await findRefund(database.db, refundId, c.env.merchant.id) : undefined;
    const s = r ? await findSession(database.db, r.sessionId, c.env.merchant.id) : undefined;
    if (!r || s?.api !== 'stripe') throw resourceMissing('refund', id);
    return c.json(refundObject(r), 200);
  });
}
