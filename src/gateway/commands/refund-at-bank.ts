// A recorded refund is carried out at the bank (inline after it is recorded, and by a job until done).
import { DomainError } from '../../core/errors.ts';
import { money, type Currency } from '../../core/money.ts';
import { refundPaidTransfers } from '../domain/ledger.payment.ts';
import { postTransfers } from '../storage/ledger.ts';
import { findRefund, lockRefund, moveRefund } from '../storage/refunds.ts';
import { projectStripeEvents } from '../storage/stripe-projection.ts';
import { findSession } from '../storage/sessions.ts';
import type { RefundRow } from '../storage/tables.ts';
import type { GatewayDeps } from './deps.ts';

/** Tells the bank about a recorded refund (idempotent by refund id) and marks it succeeded. */
export async function refundAtBank(
  deps: Pick<GatewayDeps, 'database' | 'issuer' | 'clock'>,
  refundId: string,
): Promise<RefundRow> {
  const { database } = deps;
  const r = await findRefund(database.db, refundId);
  if (!r) throw new DomainError('not_found', { resource: 'refund' });
  if (r.status === 'succeeded') return r;
  const s = await findSession(database.db, r.sessionId);
  if (!s?.bankAuthorizationId) throw new DomainError('refund.not_allowed');
  await deps.issuer.refund(s.bankAuthorizationId, r.id, money(r.amountMinor, r.currency as Currency));
  return database.transaction(async (tx) => {
    const locked = await lockRefund(tx, refundId);
    // The inline call and the job may both have reached the bank: the first to get here records it.
    if (locked.status === 'succeeded') return locked;
    const done = await moveRefund(tx, locked, 'bank_refunded');
    // A Stripe session's merchant learns of it as refund.updated (status succeeded).
    await projectStripeEvents(tx, { session: s, type: 'refund.succeeded', refundId: done.id }, deps.clock);
    // The books, last (after the projection's lock on the merchant's feed): the refund paid out.
    await postTransfers(tx, refundPaidTransfers(s, done), deps.clock.now());
    return done;
  });
}
