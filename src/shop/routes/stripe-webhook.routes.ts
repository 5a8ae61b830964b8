/**
 * `POST /webhooks/stripe`: Stripe's events, when the shop runs on Stripe. The raw bytes are verified
 * with the SDK's `webhooks.constructEvent` (`Stripe-Signature`, 300 s tolerance, several secrets during
 * a rotation; a timestamp further than the tolerance in the future is refused too) before anything is
 * parsed. The event becomes neutral news (adapters/stripe-mapping.ts) and `applyGatewayEvent` decides
 * and commits in one transaction, with the capture or cancel it implies queued in the same transaction.
 * A processed event — accepted, refused, ignored or a duplicate — is answered 200: with Stripe the
 * refusal is the cancel, not the HTTP answer. A failure before the commit answers 500 (Stripe retries).
 * Deliveries failing verification are counted and limited like the native intake's.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import Stripe from 'stripe';
import { z } from '@hono/zod-openapi';
import { DomainError, isDomainError } from '../../core/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { AppEnv } from '../../platform/http/app.ts';
import type { Logger } from '../../platform/log.ts';
import type { StripeGateway } from '../adapters/gateway.stripe.ts';
import { applyDisputeEvent } from '../commands/apply-dispute-event.ts';
import { applyGatewayEvent } from '../commands/apply-gateway-event.ts';
import { keepReceipt } from '../storage/payments.ts';
import type { RefusalLimits } from '../storage/webhook-refusals.ts';
import { httpAnswer } from './http-answer.ts';
import { refuseUnverified } from './webhook.routes.ts';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';
const MAX_BODY_BYTES = 256 * 1024;
export const STRIPE_TOLERANCE_SECONDS = 300;

export interface StripeWebhookDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly log: Logger;
  readonly gateway: Pick<StripeGateway, 'toPaymentEvent' | 'toDisputeNews'>;
  /** The endpoint's signing secrets (`whsec_…`): one, or several while rotating. */
  readonly secrets: readonly string[];
  readonly toleranceSeconds?: number;
  readonly addressOf: (c: Context) => string;
  readonly refusalLimits?: RefusalLimits;
}

/**
 * Verifies a Stripe delivery against each secret in turn (the SDK compares in constant time): the
 * event, or the DomainError naming why not (headers missing, signature invalid, timestamp out of tolerance).
 */
export function verifyStripeWebhook(input: {
  body: Uint8Array;
  header: string | undefined;
  secrets: readonly string[];
  now: Date;
  toleranceSeconds?: number;
}): Stripe.Event {
  const tolerance = input.toleranceSeconds ?? STRIPE_TOLERANCE_SECONDS;
  if (!input.header) throw new DomainError('webhook.headers_missing');
  const t = Number(/(?:^|,)\s*t=(\d{1,12})(?:,|$)/.exec(input.header)?.[1] ?? NaN);
  if (!Number.isFinite(t)) throw new DomainError('webhook.signature_invalid');
  // The SDK refuses only a past timestamp; one from the future beyond the tolerance is as suspect.
  if (t - input.now.getTime() / 1000 > tolerance) throw new DomainError('webhook.timestamp_out_of_tolerance');
  let stale = false;
  for (const secret of input.secrets) {
    try {
      return Stripe.webhooks.constructEvent(
        Buffer.from(input.body),
        input.header,
        secret,
        tolerance,
        undefined,
        input.now.getTime(),
      );
    } catch (err) {
      if (!(err instanceof Stripe.errors.StripeSignatureVerificationError)) throw err;
      if (/tolerance/i.test(err.message)) stale = true;
    }
  }
  throw new DomainError(stale ? 'webhook.timestamp_out_of_tolerance' : 'webhook.signature_invalid');
}

const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Mounts the Stripe intake and documents it in /openapi.json. */
export function stripeWebhookRoutes(app: OpenAPIHono<AppEnv>, deps: StripeWebhookDeps): void {
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: STRIPE_WEBHOOK_PATH,
    summary: 'Stripe events (when the shop runs on Stripe)',
    description:
      'Verified over the raw body with Stripe-Signature (300 s tolerance, several secrets during a rotation). Deduplicated by event id ' +
      'in the transaction of its effect. 200 once processed, whatever the verdict: an accepted authorisation is then captured, a ' +
      'refused one cancelled (queued jobs). 400/401 bad or missing signature; 500 failure before the commit (Stripe retries).',
    request: {
      headers: z.object({ 'stripe-signature': z.string() }),
      body: { content: { 'application/json': { schema: z.object({ id: z.string(), type: z.string() }) } } },
    },
    responses: {
      200: {
        description: 'Processed (accepted, refused, ignored or a duplicate)',
        content: { 'application/json': { schema: z.object({ received: z.boolean(), verdict: z.string() }) } },
      },
      400: {
        description: 'Signature header missing or body malformed',
        content: { 'application/json': { schema: errorBody } },
      },
      401: {
        description: 'Signature invalid or timestamp outside the tolerance',
        content: { 'application/json': { schema: errorBody } },
      },
      413: { description: 'Body larger than 256 KB', content: { 'application/json': { schema: errorBody } } },
      429: {
        description: 'Too many unverifiable deliveries from this address',
        content: { 'application/json': { schema: errorBody } },
      },
      500: { description: 'Not applied; retry', content: { 'application/json': { schema: errorBody } } },
    },
  });

  app.post(STRIPE_WEBHOOK_PATH, async (c) => {
    const now = deps.clock.now();
    const raw = new Uint8Array(await c.req.arrayBuffer());
    let verified: Stripe.Event;
    try {
      if (raw.byteLength > MAX_BODY_BYTES) throw new DomainError('request.too_large');
      verified = verifyStripeWebhook({
        body: raw,
        header: c.req.header('stripe-signature'),
        secrets: deps.secrets,
        now,
        ...(deps.toleranceSeconds ? { toleranceSeconds: deps.toleranceSeconds } : {}),
      });
    } catch (err) {
      if (!isDomainError(err)) {
        // Signed but not JSON (the SDK parses after verifying).
        const answer = httpAnswer(new DomainError('request.malformed', { reason: 'malformed JSON' }));
        return c.json(answer.body, answer.status as 400);
      }
      return refuseUnverified(c, deps, now, raw, err);
    }
    try {
      if ((verified.type as string).startsWith('charge.dispute.')) {
        const news = await deps.gateway.toDisputeNews(verified, 'webhook');
        if (!news) return c.json({ received: true, verdict: 'ignored' }, 200);
        const outcome = await applyDisputeEvent(deps.database, news, deps.clock, { receipt: true });
        return c.json({ received: true, verdict: outcome.verdict }, 200);
      }
      const event = await deps.gateway.toPaymentEvent(verified, 'webhook');
      // A type the shop does not act on: received, nothing to keep.
      if (!event) return c.json({ received: true, verdict: 'ignored' }, 200);
      const outcome = await applyGatewayEvent(deps.database, event, deps.clock, { receipt: true, explicit: true });
      return c.json({ received: true, verdict: outcome.verdict }, 200);
    } catch (err) {
      deps.log.error({ err, eventId: verified.id, type: verified.type }, 'stripe webhook not applied');
      const malformed =
        isDomainError(err) && ['validation.failed', 'currency.unknown', 'money.invalid'].includes(err.code);
      const reason = malformed ? 'malformed' : 'error';
      await keepReceipt(deps.database.db, {
        receivedAt: now,
        eventId: String(verified.id),
        verdict: reason,
        reason,
      }).catch((e: unknown) => deps.log.error({ err: e }, 'could not record a webhook receipt'));
      const answer = httpAnswer(malformed ? new DomainError('request.malformed') : new DomainError('internal'));
      return c.json(answer.body, answer.status as 500);
    }
  });
}
