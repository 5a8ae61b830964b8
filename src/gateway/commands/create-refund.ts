// The merchant refunds part or all of a captured payment.
import { newId } from '../../core/ids.ts';
import { money, toJSON, type Currency, type Money } from '../../core/money.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { decideRefund } from '../domain/refund.rule.ts';
import type { StripeRefundExtras } from '../domain/stripe.ts';
import { REFUND_AT_BANK_TASK } from '../jobs/task-names.ts';
import { refundTransfers } from '../domain/ledger.payment.ts';
import { postTransfers } from '../storage/ledger.ts';
import { hasUnwonDispute } from '../storage/disputes.ts';
import { insertRefund } from '../storage/refunds.ts';
import { lockSession, moveSession } from '../storage/sessions.ts';
import type { RefundRow } from '../storage/tables.ts';
import type { GatewayDeps } from './deps.ts';
import { refundAtBank } from './refund-at-bank.ts';

/**
 * Refunds part or all of a captured payment. The amount is reserved under the session's row lock
 * (so concurrent refunds cannot together exceed the capture, and a dispute opened at the same time
 * waits on the same lock), then the bank is asked; if it cannot be reached a durable job keeps
 * asking. A payment with a dispute that is not won is not refunded. Returns the refund, `succeeded`
 * or still `pending`.
 */
export async function createRefund(
  deps: Pick<GatewayDeps, 'database' | 'issuer' | 'clock' | 'log'>,
  merchantId: string,
  input: { sessionId: string; amount: Money; reason: string; stripe?: StripeRefundExtras },
): Promise<RefundRow> {
  const { database, clock } = deps;
  const refund = await database.transaction(async (tx) => {
    const s = await lockSession(tx, input.sessionId, merchantId);
    const decision = decideRefund({
      status: s.status,
      captured: money(s.capturedMinor, s.currency as Currency),
      alreadyRefunded: money(s.refundedMinor, s.currency as Currency),
      requested: input.amount,
      disputed: await hasUnwonDispute(tx, s.id),
    });
    const now = clock.now();
    const id = newId('ref', now);
    const row = await insertRefund(tx, {
      id,
      sessionId: s.id,
      merchantId,
      amount: input.amount,
      reason: input.reason,
      createdAt: now,
      stripe: input.stripe ?? null,
    });
    await moveSession(tx, s, decision.event, clock, {
      patch: { refundedMinor: decision.refundedAfter.minor },
      reason: input.reason || null,
      refund: { id, amount: toJSON(input.amount), refunded_total: toJSON(decision.refundedAfter) },
    });
    // The books: the amount leaves the merchant's available balance with the refund recorded.
    await postTransfers(tx, refundTransfers(s, row), now);
    // The safety net, due later: runs only if the inline bank call below does not finish the refund.
    await enqueue(
      tx,
      {
        task: REFUND_AT_BANK_TASK,
        payload: { refundId: id },
        key: `refund:${id}`,
        runAt: new Date(now.getTime() + 30_000),
      },
      clock,
    );
    return row;
  });
  try {
    return await refundAtBank(deps, refund.id);
  } catch (err) {
    deps.log?.warn({ refundId: refund.id, err }, 'refund at the bank failed; the job will retry');
    return refund;
  }
}
