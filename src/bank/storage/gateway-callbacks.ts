// The callback outbox: a decision the gateway must hear about is written as a row (with its exact
// body) and a delivery job, in the decision's transaction; the job signs and POSTs it, retrying with
// backoff until the gateway answers 2xx. The row id is the webhook-id, stable across retries, so the
// gateway can dedupe.
import { eq } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import { signWebhook } from '../../core/webhook-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import type { DeclineReason } from '../domain/authorization.machine.ts';
import { gatewayCallbacks } from './bank.schema.ts';
import { BANK_TASKS } from './bank-settings.ts';

export type CallbackBody =
  | { type: 'authorization.approved'; authorization_id: string; gateway_ref: string }
  | { type: 'authorization.declined'; authorization_id: string; gateway_ref: string; decline_reason: DeclineReason };

/** Writes the callback and its delivery job in the caller's transaction. */
export async function enqueueCallback(tx: Executor, body: CallbackBody, clock: Clock): Promise<string> {
  const now = clock.now();
  const id = newId('bcb', now);
  await tx.insert(gatewayCallbacks).values({
    id,
    authorizationId: body.authorization_id,
    body: JSON.stringify(body),
    status: 'pending',
    createdAt: now,
  });
  await enqueue(tx, { task: BANK_TASKS.deliverCallback, payload: { callbackId: id }, key: `${BANK_TASKS.deliverCallback}:${id}`, maxAttempts: 15 }, clock);
  return id;
}

export interface CallbackTarget {
  readonly url: string;
  readonly secrets: readonly string[];
  /** Seconds to wait for the gateway's answer. */
  readonly timeoutSeconds?: number;
  /** The platform's outbound client (verifies the gateway's certificate against the configured CA). */
  readonly fetch?: typeof fetch;
}

/** Delivers one callback (a job handler); throws to be retried when the gateway does not answer 2xx. */
export async function deliverCallback(database: Database, callbackId: string, target: CallbackTarget, clock: Clock): Promise<void> {
  const [row] = await database.db.select().from(gatewayCallbacks).where(eq(gatewayCallbacks.id, callbackId));
  if (!row || row.status === 'delivered') return;
  const headers = signWebhook({ id: row.id, timestamp: clock.now(), body: row.body, secrets: target.secrets });
  let failure: string | undefined;
  try {
    const response = await (target.fetch ?? fetch)(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: row.body,
      signal: AbortSignal.timeout((target.timeoutSeconds ?? 10) * 1000),
    });
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) failure = `gateway answered ${response.status}`;
  } catch (err) {
    failure = `gateway unreachable: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (failure === undefined) {
    await database.db
      .update(gatewayCallbacks)
      .set({ status: 'delivered', deliveredAt: clock.now(), attempts: row.attempts + 1, lastError: null })
      .where(eq(gatewayCallbacks.id, row.id));
    return;
  }
  await database.db.update(gatewayCallbacks).set({ attempts: row.attempts + 1, lastError: failure }).where(eq(gatewayCallbacks.id, row.id));
  throw new Error(failure);
}
