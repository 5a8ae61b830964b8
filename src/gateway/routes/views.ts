// The API's JSON shapes, as zod schemas (they document /openapi.json) and the functions that build them.
import { z } from '@hono/zod-openapi';
import { money, toJSON, type Currency } from '../../core/money.ts';
import type { RefundRow, SessionRow } from '../storage/tables.ts';

export const moneySchema = z
  .object({
    minor: z
      .string()
      .regex(/^(0|[1-9][0-9]{0,18})$/, 'must be a string of digits (minor units)')
      .openapi({ example: '1999' }),
    currency: z.string().openapi({ example: 'EUR' }),
  })
  .openapi('Money');

export const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .openapi('Error');

export const sessionSchema = z
  .object({
    id: z.string().openapi({ example: 'ps_01JA...' }),
    object: z.literal('payment_session'),
    status: z.string().openapi({
      description:
        'created | processing | requires_approval | authorized | captured | voided | declined | expired | canceled | partially_refunded | refunded',
    }),
    amount: moneySchema,
    merchant_reference: z.string(),
    description: z.string(),
    expires_at: z.string(),
    return_url: z.string().nullable(),
    cancel_url: z.string().nullable(),
    hosted_url: z.string(),
    acknowledged: z.boolean().openapi({ description: 'Whether the shop answered 2xx to payment.authorized in time.' }),
    acknowledgement: z
      .string()
      .nullable()
      .openapi({ description: 'null (waiting or not asked) | acknowledged | refused | timed_out' }),
    acknowledged_at: z.string().nullable(),
    card: z.object({ last4: z.string(), brand: z.string(), fingerprint: z.string() }).nullable(),
    decline_reason: z.string().nullable(),
    void_reason: z.string().nullable(),
    last_error: z.string().nullable(),
    captured_amount: moneySchema,
    refunded_amount: moneySchema,
    sequence: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('PaymentSession');

export type SessionView = z.infer<typeof sessionSchema>;

/** The API's view of a session. */
export function sessionView(s: SessionRow, publicUrl: string): SessionView {
  const currency = s.currency as Currency;
  return {
    id: s.id,
    object: 'payment_session',
    status: s.status,
    amount: toJSON(money(s.amountMinor, currency)),
    merchant_reference: s.merchantReference,
    description: s.description,
    expires_at: s.expiresAt.toISOString(),
    return_url: s.returnUrl,
    cancel_url: s.cancelUrl,
    hosted_url: `${publicUrl}/pay/${s.id}`,
    acknowledged: s.acknowledgement === 'acknowledged',
    acknowledgement: s.acknowledgement,
    acknowledged_at: s.acknowledgedAt?.toISOString() ?? null,
    card: s.cardLast4
      ? { last4: s.cardLast4, brand: s.cardBrand ?? 'unknown', fingerprint: s.cardFingerprint ?? '' }
      : null,
    decline_reason: s.declineReason,
    void_reason: s.voidReason,
    last_error: s.lastError,
    captured_amount: toJSON(money(s.capturedMinor, currency)),
    refunded_amount: toJSON(money(s.refundedMinor, currency)),
    sequence: s.sequence,
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
  };
}

export const refundSchema = z
  .object({
    id: z.string(),
    object: z.literal('refund'),
    session_id: z.string(),
    amount: moneySchema,
    reason: z.string(),
    status: z.string().openapi({ description: 'pending (recorded, the bank not yet confirmed) | succeeded' }),
    created_at: z.string(),
  })
  .openapi('Refund');

/** A refund as the API shows it. */
export function refundView(r: RefundRow) {
  return {
    id: r.id,
    object: 'refund' as const,
    session_id: r.sessionId,
    amount: toJSON(money(r.amountMinor, r.currency as Currency)),
    reason: r.reason,
    status: r.status,
    created_at: r.createdAt.toISOString(),
  };
}

export const eventSchema = z
  .object({
    cursor: z.string().openapi({ description: 'Pass as ?after= to read what came later.' }),
    id: z.string(),
    type: z.string().openapi({
      description:
        'payment.requires_approval | payment.authorized | payment.captured | payment.voided | payment.declined | payment.expired | payment.canceled | payment.partially_refunded | payment.refunded | dispute.created | dispute.updated | dispute.closed',
    }),
    created_at: z.string(),
    data: z.object({
      session_id: z.string(),
      merchant_reference: z.string(),
      amount: moneySchema,
      status: z.string(),
      sequence: z.number().int(),
      reason: z.string().optional(),
      card: z
        .object({ brand: z.string(), last4: z.string() })
        .optional()
        .openapi({ description: 'The card entered on the hosted page (brand and last four only), once there is one.' }),
      refund: z.object({ id: z.string(), amount: moneySchema, refunded_total: moneySchema }).optional(),
      object: z
        .record(z.string(), z.unknown())
        .optional()
        .openapi({ description: "dispute.* events: the Dispute (as GET /v1/disputes/{id}); status is the dispute's" }),
    }),
  })
  .openapi('Event');
