// Delivers one webhook attempt: Standard Webhooks headers signed with every active secret over the
// exact bytes sent, the attempt logged (status, latency, excerpt), and the answer acted on: 2xx to
// payment.authorized acknowledges it, 409/422 refuses it, 410 disables the endpoint, anything else
// is retried on the documented schedule (WEBHOOK_RETRY_SCHEDULE_SECONDS) with jitter.
import { sql } from 'drizzle-orm';
import { signWebhook } from '../../core/webhook-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import { crashPoint } from '../../platform/crash-points.ts';
import { rows, type Database, type Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import type { Logger } from '../../platform/log.ts';
import { acknowledgeDelivered } from '../commands/acknowledge-session.ts';
import { refuseSession } from '../commands/refuse-session.ts';
import type { DeliveryEvent } from '../domain/delivery.machine.ts';
import { classifyAnswer, nextRetryDelayMs } from '../domain/webhook.schedule.ts';
import {
  attemptInsert,
  deliveryMove,
  findDeliveryForAttempt,
  insertAttempt,
  moveDelivery,
  type AttemptValues,
} from '../storage/deliveries.ts';
import { nextDraw } from '../storage/faults.ts';
import { inForceAt, setWebhookEnabled, type UnretiredSecret } from '../storage/merchants.ts';
import { findSession } from '../storage/sessions.ts';
import type { EventRow, MerchantRow, SessionRow } from '../storage/tables.ts';
import type { DeliveryTarget } from './delivery-target.ts';
import { stripeDeliveryTarget } from './stripe-delivery-target.ts';
import { DELIVER_WEBHOOK_TASK } from './task-names.ts';

export interface DeliveryDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly timeoutMs?: number;
  readonly random?: () => number;
  readonly log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly fetch?: typeof fetch;
  /** For URLs a merchant registered (Stripe-format endpoints): connects to allowed addresses only. */
  readonly merchantFetch?: typeof fetch;
}

type Fault = NonNullable<Awaited<ReturnType<typeof nextDraw>>>;
interface Job {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly held?: boolean;
}
interface Answer {
  readonly status: number | null;
  readonly text: string;
  readonly error: string | null;
  readonly dropped: boolean;
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

/** The job's delivery as its attempt settles it: still pending (else another attempt settled it). */
const pendingOf = (job: Job) => ({ id: job.deliveryId, status: 'pending' }) as const;

/** The delivery's patch when an attempt settles it: the attempt counted, the answer's status, when next. */
const settledPatch = (job: Job, code: number | null, nextAttemptAt: Date | null = null) => ({
  attempts: job.attempt,
  lastStatusCode: code,
  nextAttemptAt,
});

/**
 * Moves a still-pending delivery by an event; a delivery another attempt already settled is left alone.
 * `record`: the attempt's row, written with the move (in its statement when the move is one).
 */
async function settle(
  deps: DeliveryDeps,
  job: Job,
  event: DeliveryEvent,
  code: number | null,
  options: { nextAttemptAt?: Date; also?: (tx: Executor) => Promise<void>; record?: AttemptValues } = {},
): Promise<void> {
  const nextAttemptAt = options.nextAttemptAt ?? null;
  const retry = event === 'retry' && nextAttemptAt !== null;
  const pending = pendingOf(job);
  const patch = settledPatch(job, code, nextAttemptAt);
  const { record } = options;
  // The move alone (with its attempt) is one statement: no transaction around it.
  if (!options.also && !retry) {
    const { db } = deps.database;
    const move = deliveryMove(db, pending, event, patch, deps.clock);
    if (record) await rows(db, sql`with recorded as (${attemptInsert(db, record).getSQL()}) ${move.getSQL()}`);
    else await move;
    return;
  }
  await deps.database.transaction(async (tx) => {
    if (record) await insertAttempt(tx, record);
    await options.also?.(tx);
    const moved = await moveDelivery(tx, pending, event, patch, deps.clock);
    if (!moved || !retry) return;
    const next = job.attempt + 1;
    await enqueue(
      tx,
      {
        task: DELIVER_WEBHOOK_TASK,
        payload: { deliveryId: job.deliveryId, attempt: next },
        runAt: nextAttemptAt,
        key: `${job.deliveryId}:${next}`,
        maxAttempts: 3,
      },
      deps.clock,
    );
  });
}

/** The native endpoint's message: the merchant's URL, Standard Webhooks headers, our event JSON. */
function nativeTarget(found: {
  event: EventRow | null;
  merchant: MerchantRow | null;
  session: SessionRow | null;
  faultsOn: boolean;
  secrets: UnretiredSecret[];
}): DeliveryTarget | null {
  const { event, merchant } = found;
  if (!event || !merchant?.webhookUrl || !merchant.webhookEnabled) return null;
  const body = JSON.stringify(event.payload);
  return {
    stripe: false,
    guarded: merchant.selfServe,
    url: merchant.webhookUrl,
    body,
    eventId: event.id,
    type: event.type,
    sessionId: event.sessionId,
    session: found.session,
    merchantId: merchant.id,
    endpointId: null,
    faultsOn: found.faultsOn,
    // Read with the delivery; those in force at the signing moment sign.
    sign: async (at) => ({
      ...signWebhook({ id: event.id, timestamp: at, body, secrets: inForceAt(found.secrets, at) }),
    }),
    disableEndpoint: (tx) => setWebhookEnabled(tx, merchant.id, false),
  };
}

/** Delay and reorder faults hold a delivery back once (later events may overtake it); true when held. */
async function heldBack(deps: DeliveryDeps, job: Job, fault: Fault | null): Promise<boolean> {
  if (!fault || job.held) return false;
  const w = fault.config.webhooks;
  const holdMs =
    fault.pick('delay') < w.delay
      ? w.delay_ms
      : fault.pick('reorder') < w.reorder
        ? Math.round(fault.pick('reorder_ms') * w.reorder_window_ms)
        : 0;
  if (holdMs <= 0) return false;
  const runAt = new Date(deps.clock.now().getTime() + holdMs);
  await enqueue(
    deps.database.db,
    {
      task: DELIVER_WEBHOOK_TASK,
      payload: { ...job, held: true },
      runAt,
      key: `${job.deliveryId}:${job.attempt}:held`,
      maxAttempts: 3,
    },
    deps.clock,
  );
  deps.log?.info({ deliveryId: job.deliveryId, holdMs }, 'fault injection: webhook held back');
  return true;
}

/** The network cause of a failed fetch, e.g. " (ECONNREFUSED)" or " (EADDRBLOCKED)". */
function causeCode(err: Error): string {
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' ? ` (${code})` : '';
}

/** Sends the message, signed, to its endpoint (dropped or duplicated when a fault says so). */
async function send(deps: DeliveryDeps, job: Job, target: DeliveryTarget, fault: Fault | null): Promise<Answer> {
  const doFetch = (target.stripe || target.guarded ? deps.merchantFetch : undefined) ?? deps.fetch ?? fetch;
  const dropped = fault !== null && fault.pick('drop') < fault.config.webhooks.drop;
  const duplicated = fault !== null && fault.pick('duplicate') < fault.config.webhooks.duplicate;
  const { body } = target;
  const headers = await target.sign(deps.clock.now());
  const post = () =>
    doFetch(target.url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'countersign-gateway/1' },
      body,
      signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
      redirect: 'manual',
    });
  if (dropped) return { status: null, text: '', error: 'fault_injected: dropped', dropped };
  let answer: Answer = { status: null, text: '', error: null, dropped };
  try {
    crashPoint('gateway.webhook.before_send');
    const response = await post();
    answer = { ...answer, status: response.status, text: (await response.text()).slice(0, 4096) };
  } catch (err) {
    answer = {
      ...answer,
      error: err instanceof Error ? `${err.name}: ${err.message}${causeCode(err)}`.slice(0, 200) : 'request failed',
    };
  }
  if (duplicated) {
    // The same message again (same webhook-id): receivers must dedupe. Its answers change nothing.
    const copies = 1 + Math.floor(fault!.pick('copies') * fault!.config.webhooks.duplicate_copies);
    for (let copy = 0; copy < copies; copy++) {
      const again = await post()
        .then((r) => r.text().then(() => r.status))
        .catch(() => null);
      deps.log?.info(
        { deliveryId: job.deliveryId, status: again, copy: copy + 1 },
        'fault injection: webhook duplicated',
      );
    }
  }
  return answer;
}

/**
 * Acts on the merchant's answer, then settles the delivery (or schedules its next attempt); `record`,
 * the attempt's row, is written first or with the settling, never after the answer is acted on.
 */
async function actOnAnswer(
  deps: DeliveryDeps,
  job: Job,
  target: DeliveryTarget,
  answer: Answer,
  fault: Fault | null,
  record: AttemptValues,
): Promise<void> {
  const asksAcknowledgement = target.type === 'payment.authorized' && !target.stripe;
  const { status } = answer;
  const verdict = classifyAnswer(status, asksAcknowledgement);
  // The shop's answer is acted on BEFORE the delivery is settled (or with it, in one statement): a
  // crash in between leaves the delivery pending, so it is sent again and the shop's dedupe answers
  // the same (acknowledge and refuse are idempotent). Settled first, a crash lost a 2xx for good and
  // voided a payment the shop had accepted.
  crashPoint('gateway.webhook.before_acknowledge');
  if (verdict === 'delivered' && asksAcknowledgement) {
    const { db } = deps.database;
    const { settled } = await acknowledgeDelivered(deps, target.sessionId, target.session ?? undefined, {
      first: attemptInsert(db, record),
      then: (wrote) => deliveryMove(db, pendingOf(job), 'deliver', settledPatch(job, status), deps.clock, wrote),
    });
    return settled ? undefined : settle(deps, job, 'deliver', status);
  }
  if (verdict === 'delivered') return settle(deps, job, 'deliver', status, { record });
  if (verdict === 'refused') {
    await insertAttempt(deps.database.db, record);
    await refuseSession(deps, target.sessionId, refusalReason(answer.text, status!));
    return settle(deps, job, 'refuse', status);
  }
  if (verdict === 'gone') {
    await settle(deps, job, 'disable', status, { also: target.disableEndpoint, record });
    deps.log?.warn(
      { merchantId: target.merchantId, endpoint: target.endpointId },
      'webhook endpoint answered 410: disabled',
    );
    return;
  }
  const delay =
    answer.dropped && fault!.config.webhooks.drop_permanently ? null : nextRetryDelayMs(job.attempt, deps.random);
  if (delay === null) return settle(deps, job, 'give_up', status, { record });
  return settle(deps, job, 'retry', status, {
    nextAttemptAt: new Date(deps.clock.now().getTime() + delay),
    record,
  });
}

/** Creates the delivery job handler. */
export function createDeliverWebhook(deps: DeliveryDeps) {
  const { database, clock } = deps;
  return async function deliverWebhook(jobPayload: unknown): Promise<void> {
    const job = jobPayload as Job;
    const found = await findDeliveryForAttempt(database.db, job.deliveryId);
    const delivery = found?.delivery;
    // A repeated or late job for a settled delivery, or an attempt that already ran (at least once delivery of jobs).
    if (!delivery || delivery.status !== 'pending' || delivery.attempts >= job.attempt) return;
    const target = delivery.webhookEndpointId
      ? await stripeDeliveryTarget(database.db, delivery, clock)
      : nativeTarget(found);
    if (!target) return settle(deps, job, 'disable', null);
    if (target.type === 'payment.authorized' && !target.stripe && job.attempt > 1) {
      // The question is moot once the payment was refused or timed out: stop asking.
      const s = target.session ?? (await findSession(database.db, target.sessionId));
      if (s && (s.acknowledgement === 'refused' || s.acknowledgement === 'timed_out'))
        return settle(deps, job, 'give_up', delivery.lastStatusCode);
    }
    const fault = await nextDraw(database.db, delivery.merchantId, 'webhook', target.faultsOn);
    if (await heldBack(deps, job, fault)) return;
    const started = performance.now();
    const answer = await send(deps, job, target, fault);
    crashPoint('gateway.webhook.after_send');
    const latencyMs = Math.round(performance.now() - started);
    const record: AttemptValues = {
      deliveryId: job.deliveryId,
      attempt: job.attempt,
      url: target.url,
      statusCode: answer.status,
      latencyMs,
      responseExcerpt: answer.text.slice(0, EXCERPT),
      error: answer.error,
      createdAt: clock.now(),
    };
    deps.log?.info(
      {
        deliveryId: job.deliveryId,
        eventId: target.eventId,
        type: target.type,
        attempt: job.attempt,
        status: answer.status,
        latencyMs,
      },
      'webhook attempt',
    );
    await actOnAnswer(deps, job, target, answer, fault, record);
  };
}
