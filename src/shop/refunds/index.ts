// Refunds (staff actions run via the gateway): storage operations, the gateway news hook and the job handler map the
// shop's worker registers. Usage in main.ts:
//   createWorker({ ..., tasks: { ...refundTasks({ database, gateway, clock }), ... } })
// and in the gateway event intake, in its transaction after the dedupe: `await applyRefundEvent(tx, event, now)`.
import type { Clock } from '../../platform/clock.ts';
import { ConfigError } from '../../platform/config.ts';
import type { Database } from '../../platform/db/database.ts';
import type { JobHandler } from '../../platform/jobs/jobs.ts';
import type { GatewayPort } from '../domain/gateway.port.ts';
import { executeRefund, REFUND_EXECUTE_TASK } from './refunds.ts';

export { REFUND_STATUSES, refundMachine, type RefundStatus } from './refund.machine.ts';
export { checkApprover, decideRefundRequest, refundReason } from './refund.rule.ts';
export {
  applyRefundEvent,
  approveRefund,
  executeRefund,
  listRefunds,
  notificationsFor,
  refundAmount,
  refundableMinor,
  REFUND_EXECUTE_TASK,
  refundsForOrder,
  rejectRefund,
  requestRefund,
  type NotificationRow,
  type RefundNews,
  type RefundRow,
} from './refunds.ts';
export { customerNotifications, refunds } from './refunds.schema.ts';

/** Default approval threshold: refunds above €100.00 need a second staff member. */
export const DEFAULT_REFUND_APPROVAL_THRESHOLD_MINOR = 10_000n;

/** Reads SHOP_REFUND_APPROVAL_THRESHOLD_MINOR (minor units; default 10000). */
export function refundApprovalThreshold(env: Record<string, string | undefined> = process.env): bigint {
  const raw = env.SHOP_REFUND_APPROVAL_THRESHOLD_MINOR;
  if (raw === undefined || raw === '') return DEFAULT_REFUND_APPROVAL_THRESHOLD_MINOR;
  if (!/^[0-9]{1,15}$/.test(raw)) throw new ConfigError(`shop: invalid configuration:\n  SHOP_REFUND_APPROVAL_THRESHOLD_MINOR: must be a whole number of minor units (got "${raw.slice(0, 40)}")`);
  return BigInt(raw);
}

/** The refund job handlers for the shop's worker. */
export function refundTasks(deps: { database: Database; gateway: Pick<GatewayPort, 'createRefund'> | undefined; clock: Clock }): Record<string, JobHandler> {
  return {
    async [REFUND_EXECUTE_TASK](payload, ctx) {
      const refundId = (payload as { refundId?: unknown } | null)?.refundId;
      if (typeof refundId !== 'string') throw new Error('payload has no refundId');
      await executeRefund(deps, refundId, ctx.attempt);
    },
  };
}
