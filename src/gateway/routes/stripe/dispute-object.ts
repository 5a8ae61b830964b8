// A dispute row as a Stripe Dispute (field names and types as Stripe's own example object). Our
// dispute id is also its Stripe id (`dp_…`, Stripe's prefix). Evidence fields Stripe takes as File
// ids are never set here (the Files API is not emulated): they stay null.
import type { DisputeRow } from '../../storage/dispute-tables.ts';
import { stripeIds } from './objects.ts';

/** Stripe's evidence fields that take text: the ones `POST /v1/disputes/{id}` accepts. */
export const STRIPE_TEXT_EVIDENCE = [
  'access_activity_log',
  'billing_address',
  'cancellation_policy_disclosure',
  'cancellation_rebuttal',
  'customer_email_address',
  'customer_name',
  'customer_purchase_ip',
  'duplicate_charge_explanation',
  'duplicate_charge_id',
  'product_description',
  'refund_policy_disclosure',
  'refund_refusal_explanation',
  'service_date',
  'shipping_address',
  'shipping_carrier',
  'shipping_date',
  'shipping_tracking_number',
  'uncategorized_text',
] as const;

/** Stripe's evidence fields that take a File id from Stripe's Files API. */
export const STRIPE_FILE_EVIDENCE = [
  'cancellation_policy',
  'customer_communication',
  'customer_signature',
  'duplicate_charge_documentation',
  'receipt',
  'refund_policy',
  'service_documentation',
  'shipping_documentation',
  'uncategorized_file',
] as const;

const unix = (d: Date) => Math.floor(d.getTime() / 1000);

/** Renders a dispute as a Stripe Dispute, as of `now` (for `past_due`). */
export function disputeObject(d: DisputeRow, now: Date, cardBrand: string | null): Record<string, unknown> {
  const given = d.stripeEvidence ?? {};
  const evidence: Record<string, unknown> = {};
  for (const field of [...STRIPE_TEXT_EVIDENCE, ...STRIPE_FILE_EVIDENCE].sort()) evidence[field] = given[field] ?? null;
  if (evidence.uncategorized_text === null && d.evidence?.text) evidence.uncategorized_text = d.evidence.text;
  evidence.enhanced_evidence = {};
  return {
    amount: Number(d.amountMinor),
    balance_transactions: [],
    charge: stripeIds.charge(d.sessionId),
    created: unix(d.createdAt),
    currency: d.currency.toLowerCase(),
    evidence,
    evidence_details: {
      due_by: unix(d.evidenceDueBy),
      has_evidence: d.submissionCount > 0,
      past_due: d.status === 'needs_response' && now.getTime() > d.evidenceDueBy.getTime(),
      submission_count: d.submissionCount,
      enhanced_eligibility: {},
    },
    id: d.id,
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    object: 'dispute',
    payment_intent: stripeIds.paymentIntent(d.sessionId),
    payment_method_details: {
      card: { brand: cardBrand, case_type: 'chargeback', network_reason_code: null, network: null },
      type: 'card',
    },
    reason: d.reason,
    status: d.status,
    enhanced_eligibility_types: [],
  };
}
