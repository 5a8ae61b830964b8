// A dispute row as the native API and the native events show it (the contract the shop builds on).
import type { DisputeRow } from '../storage/dispute-tables.ts';

/** The native dispute object. */
export interface DisputeView {
  id: string;
  object: 'dispute';
  payment_session: string;
  amount: number;
  currency: string;
  reason: string;
  status: string;
  evidence_due_by: string;
  created: string;
}

/** Renders a dispute for the native API and its events. */
export function disputeView(d: DisputeRow): DisputeView {
  return {
    id: d.id,
    object: 'dispute',
    payment_session: d.sessionId,
    amount: Number(d.amountMinor),
    currency: d.currency,
    reason: d.reason,
    status: d.status,
    evidence_due_by: d.evidenceDueBy.toISOString(),
    created: d.createdAt.toISOString(),
  };
}
