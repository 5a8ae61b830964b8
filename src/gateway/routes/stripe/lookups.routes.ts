// The lookups an integration makes: /v1/charges/{id} (the session's attempt at the bank, `ch_X` of
// session ps_X), the Checkout Session of a PaymentIntent (GET /v1/checkout/sessions?payment_intent=),
// and the expansions asked for on retrieve: a PaymentIntent's `latest_charge`, a Checkout Session's
// `payment_intent` (and `payment_intent.latest_charge`), a Charge's `payment_intent`. A charge exists
// once the bank answered; before that `ch_X` is 404, as for an id that does not exist.
import type { Executor } from '../../../platform/db/database.ts';
import { wasDisputed } from '../../storage/disputes.ts';
import { findSession } from '../../storage/sessions.ts';
import type { SessionRow } from '../../storage/tables.ts';
import { stripeSession, type StripeDeps, type StripeRouter } from './context.ts';
import { invalidParam, resourceMissing } from './errors.ts';
import { allowOnly, expand, str } from './form.ts';
import { listLimit } from './list-params.ts';
import { chargeObject, checkoutSessionObject, paymentIntentObject, stripeIds, type RenderContext } from './objects.ts';

/**
 * A PaymentIntent with its `latest_charge` expanded when asked (`prefix` is the path to it, e.g.
 * `payment_intent.`); the charge's `disputed` is read from `db` only then.
 */
export async function paymentIntentExpanded(
  db: Executor,
  s: SessionRow,
  ctx: RenderContext,
  expansions: readonly string[],
  prefix = '',
): Promise<Record<string, unknown>> {
  const pi = paymentIntentObject(s, ctx);
  const charge = expansions.includes(`${prefix}latest_charge`) ? chargeObject(s, await wasDisputed(db, s)) : null;
  return charge ? { ...pi, latest_charge: charge } : pi;
}

/** A Checkout Session with `payment_intent` (and its `latest_charge`) expanded when asked; `prefix` as above. */
export async function checkoutSessionExpanded(
  db: Executor,
  s: SessionRow,
  ctx: RenderContext,
  expansions: readonly string[],
  prefix = '',
): Promise<Record<string, unknown> | null> {
  const cs = checkoutSessionObject(s, ctx);
  if (!cs) return null;
  const deep = expansions.includes(`${prefix}payment_intent.latest_charge`);
  if (!deep && !expansions.includes(`${prefix}payment_intent`)) return cs;
  return { ...cs, payment_intent: await paymentIntentExpanded(db, s, ctx, expansions, `${prefix}payment_intent.`) };
}

/** Registers the Charge route and the Checkout Session list. */
export function lookupRoutes(router: StripeRouter, deps: StripeDeps): void {
  const { database } = deps.gateway;
  // The list, filtered by `payment_intent` (what an integration asks to find a PaymentIntent's
  // Checkout Session from a payment_intent.* event): that one session, or none.
  router.get('/v1/checkout/sessions', async (c) => {
    const p = c.env.params;
    allowOnly(p, ['payment_intent', 'limit', 'expand']);
    listLimit(p);
    const pi = str(p, 'payment_intent', 'payment_intent', 100);
    if (pi === undefined)
      throw invalidParam('payment_intent', 'This gateway lists Checkout Sessions by payment_intent only.');
    const sessionId = stripeIds.sessionOf(pi, 'pi');
    const s = sessionId ? await findSession(database.db, sessionId, c.env.merchant.id) : undefined;
    const found = s && s.api === 'stripe' && s.stripe?.checkout ? [s] : [];
    const ctx = { publicUrl: deps.publicUrl() };
    return c.json({
      object: 'list',
      data: await Promise.all(found.map((x) => checkoutSessionExpanded(database.db, x, ctx, expand(p), 'data.'))),
      has_more: false,
      url: '/v1/checkout/sessions',
    });
  });

  router.get('/v1/charges/:id', async (c) => {
    allowOnly(c.env.params, []);
    const id = c.req.param('id');
    const s = await stripeSession(database, c.env.merchant.id, id, 'ch');
    const charge = chargeObject(s, await wasDisputed(database.db, s));
    if (!charge) throw resourceMissing('charge', id, 'id');
    const ctx = { publicUrl: deps.publicUrl() };
    return c.json(
      expand(c.env.params).includes('payment_intent')
        ? { ...charge, payment_intent: paymentIntentObject(s, ctx) }
        : charge,
      200,
    );
  });
}
