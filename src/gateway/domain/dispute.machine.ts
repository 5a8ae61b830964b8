/**
 * A dispute (chargeback) of a captured payment, as the bank reported it (column `disputes.status`):
 *
 *   needs_response ──submit_evidence──▶ under_review     the merchant sent evidence (forwarded to the bank)
 *   needs_response ──accept──────────▶ lost              the merchant accepted the chargeback
 *   needs_response ──bank_lost───────▶ lost              the bank decided (deadline without evidence)
 *   needs_response ──bank_won────────▶ won               the cardholder withdrew it
 *   under_review   ──bank_won────────▶ won               the bank decided for the merchant
 *   under_review   ──bank_lost───────▶ lost              the bank decided for the cardholder
 *
 * won and lost are final. A bank verdict on a dispute already closed (the merchant accepted, then the
 * bank's own `lost` arrives) changes nothing.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const DISPUTE_STATES = ['needs_response', 'under_review', 'won', 'lost'] as const;
export type DisputeStatus = (typeof DISPUTE_STATES)[number];

export const DISPUTE_EVENTS = ['submit_evidence', 'accept', 'bank_won', 'bank_lost'] as const;
export type DisputeEvent = (typeof DISPUTE_EVENTS)[number];

/** Stripe's reason names, the only ones a dispute may carry. */
export const DISPUTE_REASONS = [
  'fraudulent',
  'product_not_received',
  'product_unacceptable',
  'duplicate',
  'subscription_canceled',
  'credit_not_processed',
  'general',
] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number];

/** The dispute machine. */
export const disputeMachine = defineMachine<DisputeStatus, DisputeEvent>({
  name: 'dispute',
  states: DISPUTE_STATES,
  events: DISPUTE_EVENTS,
  transitions: {
    needs_response: { submit_evidence: 'under_review', accept: 'lost', bank_lost: 'lost', bank_won: 'won' },
    under_review: { bank_won: 'won', bank_lost: 'lost' },
  },
});

/** The limits on evidence a merchant submits (the API refuses more with 400). */
export const EVIDENCE_LIMITS = { textChars: 20_000, files: 5, fileBytes: 1_048_576 } as const;

/** One evidence file as submitted (content in base64). */
export interface EvidenceFile {
  readonly name: string;
  readonly content_type: string;
  readonly content_base64: string;
}

/** Evidence as forwarded to the bank. */
export interface Evidence {
  readonly text: string;
  readonly files: readonly EvidenceFile[];
}

/** Why the evidence is refused, or null when it is within the limits. */
export function evidenceProblem(e: Evidence): string | null {
  if (e.text.length > EVIDENCE_LIMITS.textChars) return `text longer than ${EVIDENCE_LIMITS.textChars} characters`;
  if (e.files.length > EVIDENCE_LIMITS.files) return `more than ${EVIDENCE_LIMITS.files} files`;
  for (const f of e.files) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(f.content_base64)) return `file ${f.name} is not base64`;
    if (Buffer.byteLength(f.content_base64, 'base64') > EVIDENCE_LIMITS.fileBytes)
      return `file ${f.name} larger than 1 MB`;
  }
  if (e.text.trim() === '' && e.files.length === 0) return 'no text and no files';
  return null;
}
