// Refund rows. `moveRefund` is the one writer of `refunds.status`; a refund is inserted `pending`.
import { and, eq } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import type { Money } from '../../core/money.ts';
import type { Executor } from '../../platform/db/database.ts';
import { refundMachine, type RefundEvent } from '../domain/refund.machine.ts';
import type { StripeRefundExtras } from '../domain/stripe.ts';
import { refunds, type RefundRow } from './tables.ts';

/** Inserts a refund in `pending`. */
export async function insertRefund(
  tx: Executor,
  input: {
    id: string;
    sessionId: string;
    merchantId: string;
    amount: Money;
    reason: string;
    createdAt: Date;
    stripe?: StripeRefundExtras | null;
  },
): Promise<RefundRow> {
  const [row] = await tx
    .insert(refunds)
    .values({
      id: input.id,
      sessionId: input.sessionId,
      merchantId: input.merchantId,
      amountMinor: input.amount.minor,
      currency: input.amount.currency,
      reason: input.reason,
      status: 'pending',
      stripe: input.stripe ?? null,
      createdAt: input.createdAt,
    })
    .returning();
  return row!;
}

/** A refund by id, optionally scoped to its merchant (another merchant's refund is not found). */
export async function findRefund(db: Executor, id: string, merchantId?: string): Promise<RefundRow | undefined> {
  const where =
    merchantId === undefined ? eq(refunds.id, id) : and(eq(refunds.id, id), eq(refunds.merchantId, merchantId));
  const [row] = await db.select().from(refunds).where(where);
  return row;
}

/** Reads and row-locks a refund for the rest of the transaction; not_found when absent. */
export async function lockRefund(tx: Executor, id: string): Promise<RefundRow> {
  const [row] = await tx.select().from(refunds).where(eq(refunds.id, id)).for('update');
  if (!row) throw new DomainError('not_found', { resource: 'refund' });
  return row;
}

/** The one writer of a refund's status: applies an event to a locked refund, as the machine allows. */
export async function moveRefund(tx: Executor, refund: RefundRow, event: RefundEvent): Promise<RefundRow> {
  const { state } = refundMachine.apply(refund.status, event);
  const [row] = await tx.update(refunds).set({ status: state }).where(eq(refunds.id, refund.id)).returning();
  return row!;
}
