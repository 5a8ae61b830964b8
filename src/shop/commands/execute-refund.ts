// Executing a refund at the gateway (the refund job's use case) and recording the gateway's answer.
import { eq } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { GatewayPort } from '../domain/gateway.port.ts';
import { refundAmount } from '../storage/refunds.ts';
import { refunds } from '../storage/tables.ts';
import { lockRefund, moveRefund, REFUND_EXECUTE_MAX_ATTEMPTS, settleInvoice } from './refund-transition.ts';

/**
 * The job: asks the gateway to refund (Idempotency-Key = our refund id, so a retried job is one
 * refund) and records its answer. A network failure throws, and the job system retries with backoff.
 */
export async function executeRefund(
  deps: { database: Database; gateway: Pick<GatewayPort, 'createRefund'> | undefined; clock: Clock },
  refundId: string,
  attempt: number,
): Promise<void> {
  const [row] = await deps.database.db.select().from(refunds).where(eq(refunds.id, refundId));
  // A retry after a failed call finds it submitted without the gateway's id: asking again is safe (same Idempotency-Key).
  if (!row || !(row.status === 'pending' || (row.status === 'submitted' && !row.gatewayRefundId))) return;
  if (row.status === 'pending') {
    // Submitted BEFORE the call, in its own commit: the gateway's news of this refund may overtake the
    // answer, and only a submitted refund may be adopted by it — never one still waiting in the queue
    // (else the news of one refund would mark another of the same amount succeeded, and that one would
    // never be executed: the shop would count a refund the payer never got).
    const submitted = await deps.database.transaction(async (tx) => {
      const current = await lockRefund(tx, refundId);
      return current.status === 'pending' ? moveRefund(tx, current, 'submit', 'gateway', deps.clock.now()) : undefined;
    });
    if (!submitted) return;
  }
  let result: Awaited<ReturnType<GatewayPort['createRefund']>>;
  try {
    if (!deps.gateway)
      throw new DomainError('config.invalid', { reason: 'no gateway configured (SHOP_GATEWAY_API_KEY)' });
    result = await deps.gateway.createRefund({
      sessionId: row.sessionId,
      refundId: row.id,
      amount: refundAmount(row),
      reason: row.reason,
    });
  } catch (err) {
    if (attempt < REFUND_EXECUTE_MAX_ATTEMPTS) throw err;
    result = { refundId: '', status: 'failed', reason: 'gateway_unreachable' };
  }
  const now = deps.clock.now();
  await deps.database.transaction(async (tx) => {
    const current = await lockRefund(tx, refundId);
    if (result.status === 'failed') {
      if (current.status === 'pending' || current.status === 'submitted')
        await moveRefund(tx, current, 'fail', 'gateway', now, { failure: result.reason ?? 'refused by the gateway' });
      return;
    }
    // The webhook may have been first (and adopted this refund or another of the same amount).
    const taken = (
      await tx.select({ id: refunds.id }).from(refunds).where(eq(refunds.gatewayRefundId, result.refundId))
    )[0];
    const patch = !current.gatewayRefundId && !taken ? { gatewayRefundId: result.refundId } : {};
    // Our gateway refund was taken by another submitted refund of the same amount: this one stays
    // submitted until the other refund's news arrives (it will adopt this one); never succeeded twice for one.
    if (current.status === 'submitted' && result.status === 'succeeded' && patch.gatewayRefundId) {
      await moveRefund(tx, current, 'succeed', 'gateway', now, patch);
      await settleInvoice(tx, current.invoiceId, 'gateway', now);
    } else if (patch.gatewayRefundId) {
      await tx
        .update(refunds)
        .set({ ...patch, updatedAt: now })
        .where(eq(refunds.id, current.id));
    }
  });
}
