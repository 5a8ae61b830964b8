/**
 * A cardholder's dispute of a captured payment, at the bank. One `status` column.
 *
 *   open          --submit_evidence-->  under_review   the merchant's evidence arrived; decided at the deadline
 *   open          --evidence_wins---->  won            evidence containing `winning_evidence` (Stripe's test convention)
 *   open          --evidence_loses--->  lost           evidence containing `losing_evidence`
 *   open          --accept----------->  lost           the merchant accepted the chargeback
 *   open          --deadline--------->  lost           no evidence by the deadline
 *   under_review  --deadline--------->  won            evidence was submitted
 *   open          --withdraw--------->  won            the cardholder withdrew it in the app
 *   under_review  --withdraw--------->  won
 *
 * won = the merchant won (the cardholder's provisional credit is reversed); lost = the chargeback
 * stands. Both final.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const BANK_DISPUTE_STATUSES = ['open', 'under_review', 'won', 'lost'] as const;
export type BankDisputeStatus = (typeof BANK_DISPUTE_STATUSES)[number];
export type BankDisputeEvent =
  | 'submit_evidence'
  | 'evidence_wins'
  | 'evidence_loses'
  | 'accept'
  | 'deadline'
  | 'withdraw';

/** The reasons a cardholder may give (Stripe's names), with the words the app shows. */
export const DISPUTE_REASON_TEXT = {
  fraudulent: 'I did not make this payment',
  product_not_received: 'I did not receive what I paid for',
  product_unacceptable: 'What I received was defective or not as described',
  duplicate: 'I was charged twice',
  subscription_canceled: 'I had cancelled this subscription',
  credit_not_processed: 'A promised refund never arrived',
  general: 'Something else',
} as const;
export type DisputeReason = keyof typeof DISPUTE_REASON_TEXT;
export const DISPUTE_REASONS = Object.keys(DISPUTE_REASON_TEXT) as DisputeReason[];

/** The dispute's lifecycle at the bank. */
export const bankDisputeMachine = defineMachine<BankDisputeStatus, BankDisputeEvent>({
  name: 'bank_dispute',
  states: BANK_DISPUTE_STATUSES,
  transitions: {
    open: {
      submit_evidence: 'under_review',
      evidence_wins: 'won',
      evidence_loses: 'lost',
      accept: 'lost',
      deadline: 'lost',
      withdraw: 'won',
    },
    under_review: { deadline: 'won', withdraw: 'won' },
  },
});

/** What submitted evidence decides at once: the test conventions, else nothing until the deadline. */
export function evidenceEvent(text: string): 'evidence_wins' | 'evidence_loses' | 'submit_evidence' {
  if (text.includes('losing_evidence')) return 'evidence_loses';
  if (text.includes('winning_evidence')) return 'evidence_wins';
  return 'submit_evidence';
}
