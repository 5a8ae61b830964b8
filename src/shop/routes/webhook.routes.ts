/**
 * `POST /webhooks/gateway`: the gateway's payment events. The raw bytes are verified (Standard
 * Webhooks, 5 min tolerance both ways, up to two secrets during a rotation) before anything is parsed;
 * then `applyGatewayEvent` decides and commits in one transaction, and only then do we answer — 2xx is
 * the shop's acknowledgement (the gateway captures), 409 a refusal (it voids). A failure before the
 * commit answers 500, so the gateway retries. Every verified delivery is kept in `webhook_receipts`;
 * one that fails verification is only counted and sampled (webhook-refusals.ts), and past the
 * per-address limit answered 429 without any write. A correctly signed delivery is never limited.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../platform/http/app.ts';
import { z } from '@hono/zod-openapi';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { verifyWebhook } from '../../core/webhook-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import { crashPoint } from '../../platform/crash-points.ts';
import type { Database } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/log.ts';
import { parseGatewayEvent } from '../adapters/gateway.native.ts';
import { isDisputeEventType, parseDisputeEvent } from '../adapters/gateway-disputes.native.ts';
import { applyDisputeEvent } from '../commands/apply-dispute-event.ts';
import { applyGatewayEvent } from '../commands/apply-gateway-event.ts';
import { keepReceipt } from '../storage/payments.ts';
import type { WebhookKeyring } from '../storage/webhook-secrets.ts';
import {
  DEFAULT_REFUSAL_LIMITS,
  recordRefusal,
  refusalsLimited,
  secondsToNextMinute,
  type RefusalLimits,
} from '../storage/webhook-refusals.ts';
import { httpAnswer } from './http-answer.ts';

export const WEBHOOK_PATH = '/webhooks/gateway';
const MAX_BODY_BYTES = 256 * 1024;

export interface WebhookDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly log: Logger;
  /** Active signing secrets (one, or two during a rotation). */
  readonly secrets: readonly string[];
  /** With it, the configured secrets and the stored ones learnt by rotation (instead of `secrets`). */
  readonly keyring?: WebhookKeyring;
  readonly toleranceSeconds?: number;
  /** The sender's address (the socket's, or the trusted proxy's header): what refusals are limited by. */
  readonly addressOf: (c: Context) => string;
  readonly refusalLimits?: RefusalLimits;
}

const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Mounts the webhook intake on the service app and documents it in /openapi.json. */
export function webhookRoutes(app: OpenAPIHono<AppEnv>, deps: WebhookDeps): void {
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: WEBHOOK_PATH,
    summary: 'Payment and dispute events from the gateway (Standard Webhooks)',
    description:
      'Verified over the raw body with the webhook-id/-timestamp/-signature headers (5 min tolerance, two secrets during rotation). ' +
      'Deduplicated by webhook-id in the same transaction as the effect. 200 after the commit acknowledges (for payment.authorized: capture). ' +
      'dispute.created|updated|closed (data.object = the dispute) record the dispute and move the order (disputed, paid again when won, dispute_lost); ' +
      'a dispute of no payment of this shop, or of more than was paid, is recorded as ignored. ' +
      '409 refuses a payment.authorized (unknown reference, amount/currency mismatch, invoice expired, not valid or already paid): the gateway voids it. ' +
      '401/400 bad signature or headers; 500 failure before the commit (retry).',
    request: {
      headers: z.object({ 'webhook-id': z.string(), 'webhook-timestamp': z.string(), 'webhook-signature': z.string() }),
      body: {
        content: {
          'application/json': {
            schema: z.object({ id: z.string(), type: z.string(), data: z.record(z.string(), z.unknown()) }),
          },
        },
      },
    },
    responses: {
      200: {
        description: 'Applied (or a duplicate / stale event, which changes nothing)',
        content: { 'application/json': { schema: z.object({ received: z.boolean(), verdict: z.string() }) } },
      },
      400: {
        description: 'Signature headers missing or body malformed',
        content: { 'application/json': { schema: errorBody } },
      },
      401: {
        description: 'Signature invalid or timestamp outside the tolerance',
        content: { 'application/json': { schema: errorBody } },
      },
      409: {
        description: 'Refused: the gateway voids the authorisation',
        content: { 'application/json': { schema: errorBody } },
      },
      413: { description: 'Body larger than 256 KB', content: { 'application/json': { schema: errorBody } } },
      429: {
        description:
          'Too many unverifiable deliveries from this address this minute (a correctly signed one is still accepted)',
        content: { 'application/json': { schema: errorBody } },
      },
      500: { description: 'Not applied; retry', content: { 'application/json': { schema: errorBody } } },
    },
  });

  app.post(WEBHOOK_PATH, async (c) => {
    const now = deps.clock.now();
    // A signed delivery that was not applied: kept for staff with its verdict, answered through the one mapping.
    const refuse = async (err: unknown, verdict: 'malformed' | 'error', eventId: string, reason: string) => {
      const answer = httpAnswer(err);
      try {
        await keepReceipt(deps.database.db, { receivedAt: now, eventId, verdict, reason: reason.slice(0, 500) });
      } catch (e) {
        deps.log.error({ err: e }, 'could not record a webhook receipt');
      }
      return c.json(answer.body, answer.status as 400);
    };

    const raw = new Uint8Array(await c.req.arrayBuffer());
    const verified = await verifyOrRefuse(c, deps, now, raw);
    if (verified instanceof Response) return verified;
    let event;
    try {
      const parsed = JSON.parse(Buffer.from(raw).toString('utf8')) as { id?: unknown; type?: unknown };
      // The signed header id is the dedupe key; a body claiming another id is not what was signed for.
      if (parsed.id !== verified.id)
        throw new DomainError('request.malformed', { reason: 'body id differs from webhook-id' });
      event = isDisputeEventType(parsed.type)
        ? { dispute: parseDisputeEvent(parsed, 'webhook') }
        : parseGatewayEvent(parsed, 'webhook');
    } catch (err) {
      // Signed by the gateway yet unreadable: a 400 (request.malformed) is retried by the gateway, and staff see why.
      const reason = isDomainError(err) ? JSON.stringify(err.details ?? {}) : 'malformed JSON';
      return refuse(new DomainError('request.malformed', { reason }), 'malformed', verified.id, reason);
    }

    try {
      const outcome =
        'dispute' in event
          ? await applyDisputeEvent(deps.database, event.dispute, deps.clock, { receipt: true })
          : await applyGatewayEvent(deps.database, event, deps.clock, { receipt: true });
      crashPoint('shop.webhook.after_commit');
      (c.env as { outgoing?: import('node:http').ServerResponse } | undefined)?.outgoing?.once('finish', () =>
        crashPoint('shop.webhook.after_ack'),
      );
      const answer = httpAnswer(outcome);
      return c.json(answer.body, answer.status as 200);
    } catch (err) {
      deps.log.error({ err, eventId: verified.id }, 'webhook not applied');
      return refuse(new DomainError('internal'), 'error', verified.id, 'internal');
    }
  });
}

/**
 * Verifies the delivery's signature (with the keyring's secrets when there is one): its id, or the answer refusing it. A refusal is
 * counted, not stored; past the address's limit it is answered 429 and not even counted. Missing
 * headers and a stale timestamp are refused before any HMAC is computed.
 */
async function verifyOrRefuse(
  c: Context,
  deps: WebhookDeps,
  now: Date,
  raw: Uint8Array,
): Promise<{ id: string } | Response> {
  let failure: DomainError;
  const verify = (secrets: readonly string[]) =>
    verifyWebhook({
      headers: {
        'webhook-id': c.req.header('webhook-id'),
        'webhook-timestamp': c.req.header('webhook-timestamp'),
        'webhook-signature': c.req.header('webhook-signature'),
      },
      body: raw,
      secrets,
      now,
      toleranceSeconds: deps.toleranceSeconds ?? 300,
    });
  try {
    if (raw.byteLength > MAX_BODY_BYTES) throw new DomainError('request.too_large');
    return verify(deps.keyring ? await deps.keyring.current(now) : deps.secrets);
  } catch (err) {
    if (!isDomainError(err)) throw err;
    failure = err;
  }
  // A secret learnt on another node moments ago: read the secrets again (at most once a second, so
  // unsigned requests cannot make every refusal a database read) and verify once more.
  const fresh = deps.keyring && failure.code === 'webhook.signature_invalid' ? await deps.keyring.afterMiss(now) : null;
  if (fresh) {
    try {
      return verify(fresh);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      failure = err;
    }
  }
  return refuseUnverified(c, deps, now, raw, failure);
}

/**
 * The answer to a delivery that failed verification (either intake): counted and sampled, never a row
 * each; past the address's limit answered 429 and not even counted.
 */
export async function refuseUnverified(
  c: Context,
  deps: Pick<WebhookDeps, 'database' | 'log' | 'addressOf' | 'refusalLimits'>,
  now: Date,
  raw: Uint8Array,
  failure: DomainError,
): Promise<Response> {
  const answer = httpAnswer(failure);
  const address = deps.addressOf(c);
  const limits = deps.refusalLimits ?? DEFAULT_REFUSAL_LIMITS;
  try {
    if (await refusalsLimited(deps.database.db, address, now, limits)) {
      c.header('retry-after', String(secondsToNextMinute(now)));
      const limited = httpAnswer(new DomainError('rate_limited'));
      return c.json(limited.body, limited.status as 429);
    }
    await recordRefusal(
      deps.database.db,
      { now, reason: failure.code, address, headers: (name) => c.req.header(name), body: raw },
      limits,
    );
  } catch (err) {
    deps.log.error({ err }, 'could not count a refused webhook delivery');
  }
  deps.log.warn({ code: failure.code, address }, 'webhook refused before verification');
  return c.json(answer.body, answer.status as 401);
}
