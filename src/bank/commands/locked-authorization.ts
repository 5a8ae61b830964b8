// What capture, void and refund share: the authorisation locked for the command (404 when unknown),
// and the amount checked against it.
import { DomainError } from '../../core/errors.ts';
import type { Money } from '../../core/money.ts';
import type { Executor } from '../../platform/db/database.ts';
import { lockAuthorization, type AuthorizationRow } from '../storage/authorizations.ts';

/** Locks the authorisation for the rest of the transaction; `not_found` when there is none. */
export async function lockedAuthorization(tx: Executor, id: string): Promise<AuthorizationRow> {
  const row = await lockAuthorization(tx, id);
  if (!row) throw new DomainError('not_found');
  return row;
}

/** Refuses an amount in another currency than the authorisation's, or not positive. */
export function checkAmount(row: AuthorizationRow, amount: Money): void {
  if (amount.currency !== row.currency) throw new DomainError('money.currency_mismatch');
  if (amount.minor <= 0n) throw new DomainError('money.invalid', { reason: 'not_positive' });
}
