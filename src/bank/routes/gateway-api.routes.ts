// The issuer API the gateway calls. Every request is signed by the gateway (request signature with
// BANK_GATEWAY_KEY over the method, the path and query, and the raw body: src/core/request-signature.ts,
// src/bank/README.md); the timestamp must be within 5 min, and each request id is consumed in a commit
// of its own before the effect, so a forged, stale, redirected or replayed request changes nothing.
import type { Context } from 'hono';
import { z } from 'zod';
import { DomainError } from '../../core/errors.ts';
import { fromJSON, type Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database, Tx } from '../../platform/db/database.ts';
import { createRouter, type AppEnv } from '../../platform/http/app.ts';
import { acceptSignedRequest } from '../../platform/http/signed-request.ts';
import { transactionWithRetry } from '../../platform/db/retry-transaction.ts';
import { createAuthorization } from '../commands/authorize.ts';
import { captureAuthorization } from '../commands/capture.ts';
import { recordGatewayRequest } from '../commands/record-gateway-request.ts';
import { receivePayout } from '../commands/receive-payout.ts';
import { refundAuthorization } from '../commands/refund.ts';
import { voidAuthorization } from '../commands/void.ts';
import { receiveAcceptance, receiveEvidence } from '../commands/decide-dispute.ts';
import type { BankDisputeRow } from '../commands/dispute-status.ts';
import { findAuthorization, findByGatewayRef, type AuthorizationRow } from '../storage/authorizations.ts';
import type { IssuerSettings } from '../storage/bank-settings.ts';
import { bankJourney } from '../storage/journey.ts';
import { authorizationView } from './authorization-view.ts';

export interface GatewayApiDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly settings: IssuerSettings;
  /** The gateway's signing secrets (two during a rotation). */
  readonly gatewayKeys: readonly string[];
  /** Called after a commit that enqueued jobs, so that workers look at once. */
  readonly wake: () => void;
}

const moneySchema = z.object({ minor: z.union([z.string(), z.number()]), currency: z.string() }).transform((v, ctx) => {
  try {
    const m = fromJSON(v);
    if (m.minor <= 0n) throw new DomainError('money.invalid');
    return m;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a positive amount in minor units with a supported currency' });
    return z.NEVER;
  }
});

const year = z.coerce
  .number()
  .int()
  .min(0)
  .max(2100)
  .transform((y) => (y < 100 ? 2000 + y : y));

const authorizeSchema = z.object({
  gateway_ref: z.string().min(1).max(200),
  card: z.object({
    number: z.string().regex(/^\d{12,19}$/, 'must be 12 to 19 digits'),
    exp_month: z.coerce.number().int().min(1).max(12),
    exp_year: year,
    cvc: z.string().regex(/^\d{3,4}$/, 'must be 3 or 4 digits'),
    name: z.string().max(200).default(''),
  }),
  amount: moneySchema,
  merchant: z.object({ name: z.string().min(1).max(200) }),
  description: z.string().max(500).default(''),
  reference: z.string().max(200).default(''),
});
const captureSchema = z.object({ amount: moneySchema });
const refundSchema = z.object({ refund_ref: z.string().min(1).max(200), amount: moneySchema });
const evidenceSchema = z.object({
  text: z.string().max(20_000).default(''),
  files: z
    .array(
      z.object({
        name: z.string().min(1).max(200),
        content_type: z.string().min(1).max(100),
        content_base64: z
          .string()
          .regex(/^[A-Za-z0-9+/]*={0,2}$/)
          .max(1_400_000),
      }),
    )
    .max(5)
    .default([]),
});
const payoutSchema = z
  .object({
    payout_id: z.string().regex(/^po_[0-9A-Z]{26}$/, 'must be a po_… id'),
    merchant_id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be the gateway merchant id'),
    amount_minor: z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be a positive amount in minor units'),
    currency: z.string(),
  })
  .transform((v, ctx) => {
    try {
      return { ...v, amount: fromJSON({ minor: v.amount_minor, currency: v.currency }) };
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a supported currency' });
      return z.NEVER;
    }
  });

function parseJson<T extends z.ZodType>(schema: T, raw: string): z.infer<T> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new DomainError('request.malformed', { reason: 'body_not_json' });
  }
  return schema.parse(value);
}

/** The gateway API router, mounted at /api/v1. */
export function gatewayApiRoutes(deps: GatewayApiDeps) {
  const { database, clock } = deps;
  const router = createRouter<AppEnv>();

  const guard = {
    secrets: deps.gatewayKeys,
    clock,
    consume: (id: string, now: Date) => recordGatewayRequest(database.db, id, now),
  };

  /**
   * Verifies the request and consumes its id (committed on its own), then runs `effect` in a
   * transaction. A body is JSON and says so: anything else is refused (415) before any effect, even
   * when signed, as the gateway's own API refuses it.
   */
  async function signed<T>(c: Context<AppEnv>, effect: (tx: Tx, body: string) => Promise<T>): Promise<T> {
    const { body } = await acceptSignedRequest(c, guard);
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (body.length > 0 && type !== 'application/json') throw new DomainError('request.unsupported_media_type');
    return transactionWithRetry(database, (tx) => effect(tx, body));
  }

  // Checked after the signature, so that a signed request to a malformed id consumes its id too.
  const authorizationId = (c: Context<AppEnv>) => {
    const id = c.req.param('id') ?? '';
    if (!/^bauth_[0-9A-Z]{26}$/.test(id)) throw new DomainError('not_found');
    return id;
  };

  router.post('/authorizations', async (c) => {
    const result = await signed(c, async (tx, raw) => {
      const body = parseJson(authorizeSchema, raw);
      return createAuthorization(
        tx,
        {
          gatewayRef: body.gateway_ref,
          card: {
            number: body.card.number,
            expMonth: body.card.exp_month,
            expYear: body.card.exp_year,
            cvc: body.card.cvc,
            name: body.card.name,
          },
          amount: body.amount as Money,
          merchantName: body.merchant.name,
          description: body.description,
          reference: body.reference,
        },
        deps.settings,
        clock,
      );
    });
    if (result.created && result.authorization.status === 'pending') deps.wake();
    return c.json(authorizationView(result.authorization), result.created ? 201 : 200);
  });

  // By the gateway's reference: how a gateway that crashed before recording the answer finds out what it was.
  router.get('/authorizations', async (c) => {
    const row = await signed(c, async (tx) => {
      const ref = c.req.query('gateway_ref') ?? '';
      if (ref.length < 1 || ref.length > 200) throw new DomainError('validation.failed', { field: 'gateway_ref' });
      return findByGatewayRef(tx, ref);
    });
    if (!row) throw new DomainError('not_found');
    return c.json(authorizationView(row));
  });

  // The bank's records of one payment, for the gateway's journey view (the same signed request as any call).
  router.get('/journey', async (c) => {
    const steps = await signed(c, async (tx) => {
      const ref = c.req.query('gateway_ref') ?? '';
      if (ref.length < 1 || ref.length > 200) throw new DomainError('validation.failed', { field: 'gateway_ref' });
      return bankJourney(tx, ref);
    });
    return c.json({ steps });
  });

  router.get('/authorizations/:id', async (c) => {
    const row = await signed(c, (tx) => findAuthorization(tx, authorizationId(c)));
    if (!row) throw new DomainError('not_found');
    return c.json(authorizationView(row));
  });

  router.post('/authorizations/:id/capture', async (c) => {
    const row: AuthorizationRow = await signed(c, (tx, raw) =>
      captureAuthorization(tx, authorizationId(c), parseJson(captureSchema, raw).amount as Money, clock),
    );
    return c.json(authorizationView(row));
  });

  router.post('/authorizations/:id/void', async (c) => {
    const row = await signed(c, (tx) => voidAuthorization(tx, authorizationId(c), clock));
    return c.json(authorizationView(row));
  });

  router.post('/authorizations/:id/refunds', async (c) => {
    const result = await signed(c, (tx, raw) => {
      const body = parseJson(refundSchema, raw);
      return refundAuthorization(
        tx,
        { id: authorizationId(c), refundRef: body.refund_ref, amount: body.amount as Money },
        clock,
      );
    });
    return c.json({ id: result.refundId, status: 'refunded', authorization: authorizationView(result.authorization) });
  });

  addDisputeApiRoutes(router, signed, deps);
  registerPayoutRoute(router, signed, deps);

  return router;
}

/** The gateway's answers to disputes: the merchant's evidence or acceptance (each taken once; a repeat answers the same). */
function addDisputeApiRoutes(
  router: ReturnType<typeof createRouter<AppEnv>>,
  signed: <T>(c: Context<AppEnv>, effect: (tx: Tx, body: string) => Promise<T>) => Promise<T>,
  deps: GatewayApiDeps,
): void {
  const { clock } = deps;
  const disputeRef = (c: Context<AppEnv>) => {
    const id = c.req.param('ref') ?? '';
    if (!/^bdsp_[0-9A-Z]{26}$/.test(id)) throw new DomainError('not_found');
    return id;
  };

  router.post('/disputes/:ref/evidence', async (c) => {
    const d = await signed(c, (tx, raw) => receiveEvidence(tx, disputeRef(c), parseJson(evidenceSchema, raw), clock));
    deps.wake();
    return c.json(disputeView(d));
  });

  router.post('/disputes/:ref/accept', async (c) => {
    const d = await signed(c, (tx) => receiveAcceptance(tx, disputeRef(c), clock));
    deps.wake();
    return c.json(disputeView(d));
  });
}

function disputeView(d: BankDisputeRow) {
  return {
    id: d.id,
    object: 'dispute',
    status: d.status,
    decided_by: d.decidedBy,
    amount_minor: d.amountMinor.toString(),
    currency: d.currency,
  };
}
type Signed = <T>(c: Context<AppEnv>, effect: (tx: Tx, body: string) => Promise<T>) => Promise<T>;

/** POST /payouts: a payout to a merchant's account at the bank, idempotent by payout_id (200 when already paid). */
function registerPayoutRoute(router: ReturnType<typeof createRouter<AppEnv>>, signed: Signed, deps: GatewayApiDeps) {
  router.post('/payouts', async (c) => {
    const { body, result } = await signed(c, async (tx, raw) => {
      const body = parseJson(payoutSchema, raw);
      const input = { payoutId: body.payout_id, merchantId: body.merchant_id, amount: body.amount };
      return { body, result: await receivePayout(tx, input, deps.settings, deps.clock) };
    });
    const view = { id: body.payout_id, status: 'paid', merchant_id: body.merchant_id, amount_minor: body.amount_minor };
    return c.json({ ...view, currency: body.amount.currency }, result.created ? 201 : 200);
  });
}
