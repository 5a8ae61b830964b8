// /v1/checkout/sessions: create (mode=payment with price_data line items), retrieve (expand[]=
// payment_intent), expire. A Checkout Session is a payment session opened with its Stripe extras; its
// `url` is our hosted page, where it is paid as a native one (bank-app approval included).
import { newId } from '../../../core/ids.ts';
import { isCurrency, type Currency } from '../../../core/money.ts';
import { cancelSession } from '../../commands/cancel-session.ts';
import { createSession } from '../../commands/create-session.ts';
import type { StripeLineItem, StripeSessionExtras } from '../../domain/stripe.ts';
import { findSession } from '../../storage/sessions.ts';
import { stripeSession, type StripeDeps, type StripeRouter } from './context.ts';
import { invalidParam, StripeApiError } from './errors.ts';
import { checkoutSessionExpanded } from './lookups.routes.ts';
import { allowOnly, expand, hash, int, list, metadata, oneOf, requiredStr, str, url, type Params } from './form.ts';
import { checkoutSessionObject, checkoutStatus, stripeIds } from './objects.ts';

const MIN_EXPIRY_S = 30 * 60;
const MAX_EXPIRY_S = 24 * 3600;

/** One `line_items[i]`: price_data with currency, unit_amount and product_data[name], and a quantity. */
function lineItem(raw: unknown, i: number): StripeLineItem {
  const at = `line_items[${i}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidParam(at, `Invalid hash: ${at}`);
  const item = raw as Params;
  allowOnly(item, ['price_data', 'quantity']);
  if (item.price_data === undefined)
    throw invalidParam(`${at}[price_data]`, `Missing required param: ${at}[price_data].`, 'parameter_missing');
  const price = hash(item, 'price_data', `${at}[price_data]`);
  allowOnly(price, ['currency', 'unit_amount', 'product_data']);
  const currency = requiredStr(price, 'currency', `${at}[price_data][currency]`, 3).toUpperCase();
  if (!isCurrency(currency))
    throw invalidParam(`${at}[price_data][currency]`, `Invalid currency: ${currency.toLowerCase()}`);
  const unit = int(price, 'unit_amount', `${at}[price_data][unit_amount]`);
  if (unit === undefined)
    throw invalidParam(
      `${at}[price_data][unit_amount]`,
      `Missing required param: ${at}[price_data][unit_amount].`,
      'parameter_missing',
    );
  const product = hash(price, 'product_data', `${at}[price_data][product_data]`);
  allowOnly(product, ['name', 'description']);
  const name = requiredStr(product, 'name', `${at}[price_data][product_data][name]`, 250);
  const quantity = int(item, 'quantity', `${at}[quantity]`);
  if (quantity === undefined || quantity < 1 || quantity > 999_999)
    throw invalidParam(`${at}[quantity]`, `${at}[quantity] must be a whole number of at least 1.`);
  return { name, quantity, unit_amount: unit, currency };
}

/** The line items, their one currency and their total (a positive amount). */
function lineItems(p: Params): { items: StripeLineItem[]; currency: Currency; total: bigint } {
  const raw = list(p, 'line_items');
  if (!raw || raw.length === 0)
    throw invalidParam('line_items', 'Missing required param: line_items.', 'parameter_missing');
  const items = raw.map(lineItem);
  const currency = items[0]!.currency as Currency;
  if (items.some((x) => x.currency !== currency))
    throw invalidParam('line_items', 'All line items must be in the same currency.');
  const total = items.reduce((sum, x) => sum + BigInt(x.unit_amount) * BigInt(x.quantity), 0n);
  if (total < 1n)
    throw invalidParam('line_items', 'The total amount must be at least 1 (minor units).', 'amount_too_small');
  return { items, currency, total };
}

/** Registers the Checkout Session routes. */
export function checkoutRoutes(router: StripeRouter, deps: StripeDeps): void {
  const { database, clock } = deps.gateway;
  const render = (s: Parameters<typeof checkoutSessionObject>[0]) =>
    checkoutSessionObject(s, { publicUrl: deps.publicUrl() });

  router.post('/v1/checkout/sessions', async (c) => {
    const p = c.env.params;
    allowOnly(p, [
      'mode',
      'line_items',
      'client_reference_id',
      'metadata',
      'payment_intent_data',
      'expires_at',
      'success_url',
      'cancel_url',
      'payment_method_types',
    ]);
    if (requiredStr(p, 'mode') !== 'payment')
      throw invalidParam('mode', 'Only mode=payment is supported by this gateway.');
    const { items, currency, total } = lineItems(p);
    const pid = hash(p, 'payment_intent_data');
    allowOnly(pid, ['capture_method', 'metadata', 'description']);
    const captureMethod = oneOf(
      pid,
      'capture_method',
      ['automatic', 'automatic_async', 'manual'],
      'payment_intent_data[capture_method]',
    );
    const now = clock.now();
    const expiresAtS = int(p, 'expires_at') ?? Math.floor(now.getTime() / 1000) + MAX_EXPIRY_S;
    const ahead = expiresAtS - now.getTime() / 1000;
    if (ahead < MIN_EXPIRY_S - 5 || ahead > MAX_EXPIRY_S + 5)
      throw invalidParam(
        'expires_at',
        'The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.',
      );
    const successUrl = url(p, 'success_url') ?? null;
    const cancelUrl = url(p, 'cancel_url') ?? null;
    const id = newId('ps', now);
    const description = str(pid, 'description', 'payment_intent_data[description]', 1000) ?? null;
    const stripe: StripeSessionExtras = {
      checkout: {
        client_reference_id: str(p, 'client_reference_id', 'client_reference_id', 200) ?? null,
        metadata: metadata(p),
        success_url: successUrl,
        cancel_url: cancelUrl,
        line_items: items,
      },
      payment_intent_metadata: metadata(pid, 'metadata', 'payment_intent_data[metadata]'),
      description,
      payment_method: null,
      cancellation_reason: null,
    };
    const s = await createSession(deps.gateway, {
      id,
      merchantId: c.env.merchant.id,
      amount: { minor: total, currency },
      merchantReference: stripe.checkout?.client_reference_id ?? stripeIds.checkoutSession(id),
      description:
        description ??
        items
          .map((x) => `${x.quantity} × ${x.name}`)
          .join(', ')
          .slice(0, 500),
      expiresAt: new Date(expiresAtS * 1000),
      // The hosted page sends the payer back to these, as for a native session.
      returnUrl: successUrl?.replaceAll('{CHECKOUT_SESSION_ID}', stripeIds.checkoutSession(id)) ?? null,
      cancelUrl,
      api: 'stripe',
      captureMethod: captureMethod === 'manual' ? 'manual' : 'automatic',
      stripe,
    });
    return c.json(render(s), 200);
  });

  router.get('/v1/checkout/sessions/:id', async (c) => {
    allowOnly(c.env.params, []);
    const s = await stripeSession(database, c.env.merchant.id, c.req.param('id'), 'cs');
    return c.json(
      await checkoutSessionExpanded(database.db, s, { publicUrl: deps.publicUrl() }, expand(c.env.params)),
      200,
    );
  });

  router.post('/v1/checkout/sessions/:id/expire', async (c) => {
    allowOnly(c.env.params, []);
    const s = await stripeSession(database, c.env.merchant.id, c.req.param('id'), 'cs');
    const { status } = checkoutStatus(s);
    if (status !== 'open' || s.status !== 'created')
      throw new StripeApiError(400, {
        type: 'invalid_request_error',
        code: 'checkout_session_unexpected_state',
        message:
          status === 'open'
            ? 'This Checkout Session is being paid right now and cannot be expired.'
            : `Only Checkout Sessions with a status in ["open"] can be expired. This one has status ${status}.`,
      });
    await cancelSession(deps.gateway, c.env.merchant.id, s.id);
    deps.wake();
    const after = await findSession(database.db, s.id);
    return c.json(render(after ?? s), 200);
  });
}
