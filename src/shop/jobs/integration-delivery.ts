// Delivers order-status events to the integration endpoints. The outbox job (`shop.order_status.deliver`)
// fans out into one job per endpoint, keyed by event and endpoint name, so that each endpoint has its
// own delivery state and retries: the warehouse answering 2xx is never repeated because the CRM is
// down. Each delivery is signed with Standard Webhooks; the webhook-id is the event id, the same on
// every retry, so that a receiver dedupes on it. A throw fails the attempt and the job system retries
// with backoff; a 2xx answer ends it.
import { eq } from 'drizzle-orm';
import { signWebhook } from '../../core/webhook-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import type { JobHandler } from '../../platform/jobs/jobs.ts';
import { ENDPOINT_DELIVERY_TASK, ORDER_STATUS_TASK } from '../storage/order-status-outbox.ts';
import { orderStatusEvents } from '../storage/tables.ts';
import type { IntegrationConfig } from '../integrations/config.ts';

export { ENDPOINT_DELIVERY_TASK };

/** The job key of one event's delivery to one endpoint (at most one such job, ever). */
export function deliveryKey(eventId: string, endpoint: string): string {
  return `order-status:${eventId}:${endpoint}`;
}

export interface IntegrationDeps {
  readonly database: Database;
  readonly config: IntegrationConfig;
  readonly clock: Clock;
  readonly fetch?: typeof fetch;
}

function eventIdOf(payload: unknown): string {
  const id = (payload as { eventId?: unknown } | null)?.eventId;
  if (typeof id !== 'string' || !/^out_[0-9A-Za-z]+$/.test(id)) throw new Error('payload has no eventId');
  return id;
}

/** Builds the two job handlers (fan-out and per-endpoint delivery). */
export function integrationTasks(deps: IntegrationDeps): Record<string, JobHandler> {
  const doFetch = deps.fetch ?? fetch;
  return {
    async [ORDER_STATUS_TASK](payload) {
      const eventId = eventIdOf(payload);
      // No endpoint configured: nothing to fan out to (and no empty transaction per order-status change).
      if (deps.config.endpoints.length === 0) return;
      // Keys make a re-run of the fan-out (after a crash) enqueue nothing twice.
      await deps.database.transaction(async (tx) => {
        for (const endpoint of deps.config.endpoints) {
          await enqueue(
            tx,
            {
              task: ENDPOINT_DELIVERY_TASK,
              payload: { eventId, endpoint: endpoint.name },
              key: deliveryKey(eventId, endpoint.name),
              maxAttempts: 15,
            },
            deps.clock,
          );
        }
      });
    },
    async [ENDPOINT_DELIVERY_TASK](payload, ctx) {
      const eventId = eventIdOf(payload);
      const name = (payload as { endpoint?: unknown }).endpoint;
      const endpoint = deps.config.endpoints.find((e) => e.name === name);
      // Removed from the configuration since: nothing to deliver to (succeeds, so it is not retried for a day).
      if (!endpoint) return;
      const [event] = await deps.database.db.select().from(orderStatusEvents).where(eq(orderStatusEvents.id, eventId));
      if (!event) throw new Error(`order-status event ${eventId} not found`);
      const body = JSON.stringify(event.payload);
      const headers = signWebhook({ id: event.id, timestamp: deps.clock.now(), body, secrets: deps.config.secrets });
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(deps.config.timeoutMs)]);
      let res: Response;
      try {
        res = await doFetch(endpoint.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'countersign-shop', ...headers },
          body,
          signal,
          redirect: 'manual',
        });
      } catch (err) {
        throw new Error(`${endpoint.name}: ${(err as Error).name} ${(err as Error).message}`.slice(0, 300));
      }
      await res.body?.cancel().catch(() => undefined);
      if (res.status < 200 || res.status > 299) throw new Error(`${endpoint.name} answered ${res.status}`);
    },
  };
}
