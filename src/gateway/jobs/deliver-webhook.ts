// Delivers one webhook attempt: Standard Webhooks headers signed with every active secret over the
// exact bytes sent, the attempt logged (status, latency, excerpt), and the answer acted on: 2xx to
// payment.authorized acknowledges it, 409/422 refuses it, 410 disables the endpoint, anything else
// is retried on the documented schedule (WEBHOOK_RETRY_SCHEDULE_SECONDS) with jitter.
import { eq } from 'drizzle-orm';
import { signWebhook } from '../../core/webhook-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import { crashPoint } from '../../platform/crash-points.ts';
import type { Database } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import type { Logger } from '../../platform/log.ts';
import { classifyAnswer, nextRetryDelayMs } from '../domain/webhook.schedule.ts';
import type { Payments } from '../payments.ts';
import { DELIVER_WEBHOOK_TASK, type EventPayload } from '../storage/events.ts';
import { nextDraw } from '../storage/faults.ts';
import { activeSecrets, findMerchant } from '../storage/merchants.ts';
import { findSession } from '../storage/sessions.ts';
import { events, merchants, webhookAttempts, webhookDeliveries } from '../storage/tables.ts';

export interface DeliveryDeps {
  readonly database: Database;
  readonly payments: Payments;
  readonly clock: Clock;
  readonly timeoutMs?: number;
  readonly random?: () => number;
  readonly log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly fetch?: typeof fetch;
}

const EXCERPT = 500;

function refusalReason(text: string, status: number): string {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string' && body.error.code.length > 0) return body.error.code.slice(0, 100);
    if (typeof body.error?.message === 'string') return body.error.message.slice(0, 100);
  } catch {
    // not JSON: the status says enough
  }
  return `refused_with_${status}`;
}

/** Creates the delivery job handler. */
export function createDeliverWebhook(deps: DeliveryDeps) {
  const { database, clock } = deps;
  const doFetch = deps.fetch ?? fetch;

  return async function deliverWebhook(jobPayload: unknown): Promise<void> {
    const { deliveryId, attempt, held } = jobPayload as { deliveryId: string; attempt: number; held?: boolean };
    const [delivery] = await database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId));
    // A repeated or late job for a settled delivery, or an attempt that already ran (at least once delivery of jobs).
    if (!delivery || delivery.status !== 'pending' || delivery.attempts >= attempt) return;
    const [event] = await database.db.select().from(events).where(eq(events.id, delivery.eventId));
    const merchant = await findMerchant(database.db, delivery.merchantId);
    const now = clock.now();
    const settleDelivery = (status: 'delivered' | 'refused' | 'failed' | 'disabled', code: number | null) =>
      database.db
        .update(webhookDeliveries)
        .set({ status, attempts: attempt, lastStatusCode: code, nextAttemptAt: null, updatedAt: clock.now() })
        .where(eq(webhookDeliveries.id, deliveryId));
    if (!event || !merchant?.webhookUrl || !merchant.webhookEnabled) {
      await settleDelivery('disabled', null);
      return;
    }
    const payload = event.payload as EventPayload;
    const asksAcknowledgement = event.type === 'payment.authorized';
    if (asksAcknowledgement && attempt > 1) {
      // The question is moot once the payment was refused or timed out: stop asking.
      const s = await findSession(database.db, event.sessionId);
      if (s && (s.acknowledgement === 'refused' || s.acknowledgement === 'timed_out')) {
        await settleDelivery('failed', delivery.lastStatusCode);
        return;
      }
    }

    const fault = await nextDraw(database.db, merchant.id, 'webhook');
    if (fault && !held) {
      // Delay and reorder hold the delivery back once (later events may overtake it), then send it.
      const w = fault.config.webhooks;
      const holdMs =
        fault.pick('delay') < w.delay ? w.delay_ms : fault.pick('reorder') < w.reorder ? Math.round(fault.pick('reorder_ms') * w.reorder_window_ms) : 0;
      if (holdMs > 0) {
        await enqueue(
          database.db,
          { task: DELIVER_WEBHOOK_TASK, payload: { deliveryId, attempt, held: true }, runAt: new Date(now.getTime() + holdMs), key: `${deliveryId}:${attempt}:held`, maxAttempts: 3 },
          clock,
        );
        deps.log?.info({ deliveryId, holdMs }, 'fault injection: webhook held back');
        return;
      }
    }
    const dropped = fault !== null && fault.pick('drop') < fault.config.webhooks.drop;
    const duplicated = fault !== null && fault.pick('duplicate') < fault.config.webhooks.duplicate;

    const body = JSON.stringify(payload);
    const secrets = await activeSecrets(database.db, merchant.id);
    const headers = signWebhook({ id: event.id, timestamp: now, body, secrets });
    const send = () =>
      doFetch(merchant.webhookUrl!, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'countersign-gateway/1' },
        body,
        signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
        redirect: 'manual',
      });
    const started = performance.now();
    let status: number | null = null;
    let text = '';
    let error: string | null = null;
    if (dropped) {
      error = 'fault_injected: dropped';
    } else {
      try {
        crashPoint('gateway.webhook.before_send');
        const response = await send();
        status = response.status;
        text = (await response.text()).slice(0, 4096);
      } catch (err) {
        error = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : 'request failed';
      }
      if (duplicated) {
        // The same message again (same webhook-id): receivers must dedupe. Its answers change nothing.
        const copies = 1 + Math.floor(fault!.pick('copies') * fault!.config.webhooks.duplicate_copies);
        for (let copy = 0; copy < copies; copy++) {
          const again = await send().then((r) => r.text().then(() => r.status)).catch(() => null);
          deps.log?.info({ deliveryId, status: again, copy: copy + 1 }, 'fault injection: webhook duplicated');
        }
      }
    }
    crashPoint('gateway.webhook.after_send');
    const latencyMs = Math.round(performance.now() - started);
    await database.db.insert(webhookAttempts).values({
      deliveryId,
      attempt,
      url: merchant.webhookUrl,
      statusCode: status,
      latencyMs,
      responseExcerpt: text.slice(0, EXCERPT),
      error,
      createdAt: clock.now(),
    });
    deps.log?.info({ deliveryId, eventId: event.id, type: event.type, attempt, status, latencyMs }, 'webhook attempt');

    const verdict = classifyAnswer(status, asksAcknowledgement);
    // The shop's answer is acted on BEFORE the delivery is settled: a crash in between leaves the
    // delivery pending, so it is sent again and the shop's dedupe answers the same (acknowledge and
    // refuse are idempotent). Settled first, a crash lost a 2xx for good and voided a payment the
    // shop had accepted.
    crashPoint('gateway.webhook.before_acknowledge');
    if (verdict === 'delivered') {
      if (asksAcknowledgement) await deps.payments.acknowledge(event.sessionId);
      await settleDelivery('delivered', status);
      return;
    }
    if (verdict === 'refused') {
      await deps.payments.refuse(event.sessionId, refusalReason(text, status!));
      await settleDelivery('refused', status);
      return;
    }
    if (verdict === 'gone') {
      await database.transaction(async (tx) => {
        await tx.update(merchants).set({ webhookEnabled: false }).where(eq(merchants.id, merchant.id));
        await tx
          .update(webhookDeliveries)
          .set({ status: 'disabled', attempts: attempt, lastStatusCode: status, nextAttemptAt: null, updatedAt: clock.now() })
          .where(eq(webhookDeliveries.id, deliveryId));
      });
      deps.log?.warn({ merchantId: merchant.id }, 'webhook endpoint answered 410: disabled');
      return;
    }
    const delay = dropped && fault!.config.webhooks.drop_permanently ? null : nextRetryDelayMs(attempt, deps.random);
    if (delay === null) {
      await settleDelivery('failed', status);
      return;
    }
    const at = new Date(clock.now().getTime() + delay);
    await database.transaction(async (tx) => {
      await tx
        .update(webhookDeliveries)
        .set({ attempts: attempt, lastStatusCode: status, nextAttemptAt: at, updatedAt: clock.now() })
        .where(eq(webhookDeliveries.id, deliveryId));
      await enqueue(tx, { task: DELIVER_WEBHOOK_TASK, payload: { deliveryId, attempt: attempt + 1 }, runAt: at, key: `${deliveryId}:${attempt + 1}`, maxAttempts: 3 }, clock);
    });
  };
}

/** Queues a new attempt of a delivery now (the "re-send" of the API and dashboard). */
export async function resendDelivery(database: Database, deliveryId: string, merchantId: string, clock: Clock): Promise<boolean> {
  return database.transaction(async (tx) => {
    const [d] = await tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId)).for('update');
    if (!d || d.merchantId !== merchantId) return false;
    const next = d.attempts + 1;
    await tx.update(webhookDeliveries).set({ status: 'pending', nextAttemptAt: clock.now(), updatedAt: clock.now() }).where(eq(webhookDeliveries.id, deliveryId));
    await enqueue(tx, { task: DELIVER_WEBHOOK_TASK, payload: { deliveryId, attempt: next }, key: `${deliveryId}:${next}:resend`, maxAttempts: 3 }, clock);
    return true;
  });
}
