// The gateway voids an authorisation, approved or still pending: the hold is released and nothing
// is debited; a question still open in the cardholder's app is withdrawn. Idempotent.
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { releaseHold } from '../storage/accounts.ts';
import type { AuthorizationRow } from '../storage/authorizations.ts';
import { moveAuthorization } from './authorization-status.ts';
import { closeApprovalRequest } from './close-approval.ts';
import { lockedAuthorization } from './locked-authorization.ts';

/** Voids an approved (or still pending) authorisation: the hold is released, nothing is debited. */
export async function voidAuthorization(tx: Executor, id: string, clock: Clock): Promise<AuthorizationRow> {
  const row = await lockedAuthorization(tx, id);
  if (row.status === 'voided') return row;
  const now = clock.now();
  const updated = await moveAuthorization(tx, row, 'void', {
    heldMinor: 0n,
    updatedAt: now,
    decidedAt: row.decidedAt ?? now,
  });
  await releaseHold(tx, row, now);
  // A void while the cardholder was still asked withdraws the question from the app.
  if (row.status === 'pending') await closeApprovalRequest(tx, row, 'cancel', clock);
  return updated;
}
