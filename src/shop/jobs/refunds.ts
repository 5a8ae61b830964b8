// The refund job the shop's worker registers: executing a refund at the gateway after its row commits.
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { JobHandler } from '../../platform/jobs/jobs.ts';
import { executeRefund } from '../commands/execute-refund.ts';
import { REFUND_EXECUTE_TASK } from '../commands/refund-transition.ts';
import type { GatewayPort } from '../domain/gateway.port.ts';

/** The refund job handlers for the shop's worker. */
export function refundTasks(deps: {
  database: Database;
  gateway: Pick<GatewayPort, 'createRefund'> | undefined;
  clock: Clock;
}): Record<string, JobHandler> {
  return {
    async [REFUND_EXECUTE_TASK](payload, ctx) {
      const refundId = (payload as { refundId?: unknown } | null)?.refundId;
      if (typeof refundId !== 'string') throw new Error('payload has no refundId');
      await executeRefund(deps, refundId, ctx.attempt);
    },
  };
}
