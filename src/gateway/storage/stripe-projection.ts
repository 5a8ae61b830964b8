// The projection of our session events onto Stripe's: called from appendEvent in the
// transaction of the change, for sessions opened through the Stripe API only. Each Stripe event
// carries its object as rendered at that moment by the Stripe edge's renderers (routes/stripe/
// objects.ts, pure views of our rows), so the event is a snapshot, as Stripe's are.
import { eq } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { stripeEventsFor, type StripeObjectKind } from '../domain/stripe-event-map.ts';
import {
  chargeObject,
  checkoutSessionObject,
  paymentIntentObject,
  refundObject,
  type RenderContext,
} from '../routes/stripe/objects.ts';
import { wasDisputed } from './disputes.ts';
import { insertStripeEvent, lockMerchantEvents } from './stripe-events.ts';
import { refunds, settings, type SessionRow } from './tables.ts';

/** The API version our events are rendered in: the one the official SDK of this round pins. */
export const STRIPE_API_VERSION = '2026-10-28.endive';

const PUBLIC_URL_SETTING = 'public_url';

/** Records the gateway's public URL (known once listening), which rendered objects link to. */
export async function recordPublicUrl(db: Executor, url: string): Promise<void> {
  await db
    .insert(settings)
    .values({ key: PUBLIC_URL_SETTING, value: url })
    .onConflictDoUpdate({ target: settings.key, set: { value: url } });
}

async function renderContext(tx: Executor): Promise<RenderContext> {
  const [row] = await tx.select().from(settings).where(eq(settings.key, PUBLIC_URL_SETTING));
  return { publicUrl: row?.value ?? '' };
}

async function render(
  tx: Executor,
  kind: StripeObjectKind,
  session: SessionRow,
  refundId: string | undefined,
  ctx: RenderContext,
): Promise<Record<string, unknown> | null> {
  switch (kind) {
    case 'payment_intent':
      return paymentIntentObject(session, ctx);
    case 'checkout_session':
      return checkoutSessionObject(session, ctx);
    case 'charge':
      return chargeObject(session, await wasDisputed(tx, session));
    case 'refund': {
      if (!refundId) return null;
      const [refund] = await tx.select().from(refunds).where(eq(refunds.id, refundId));
      return refund ? refundObject(refund) : null;
    }
  }
}

/**
 * Writes the Stripe events of one of our events (`payment.*`, or `payment.created` at creation and
 * `refund.succeeded` when the bank refunded) for a Stripe session, each with its deliveries. Nothing
 * for a native session.
 */
export async function projectStripeEvents(
  tx: Executor,
  input: { session: SessionRow; type: string; refundId?: string | undefined },
  clock: Clock,
): Promise<void> {
  const { session } = input;
  if (session.api !== 'stripe') return;
  const plans = stripeEventsFor(input.type, {
    captureMethod: session.captureMethod,
    hasCheckout: Boolean(session.stripe?.checkout),
    rendersCharges: true,
  });
  if (plans.length === 0) return;
  const ctx = await renderContext(tx);
  await lockMerchantEvents(tx, session.merchantId);
  for (const plan of plans) {
    const object = await render(tx, plan.object, session, input.refundId, ctx);
    if (!object) continue;
    await insertStripeEvent(
      tx,
      {
        merchantId: session.merchantId,
        sessionId: session.id,
        type: plan.type,
        build: (id, pending, created) => ({
          id,
          object: 'event',
          api_version: STRIPE_API_VERSION,
          created,
          data: { object },
          livemode: false,
          pending_webhooks: pending,
          request: { id: null, idempotency_key: null },
          type: plan.type,
        }),
      },
      clock,
    );
  }
}
