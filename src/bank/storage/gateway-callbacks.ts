// The callback outbox: a decision the gateway must hear about is written as a row (with its exact
// body) and a delivery job, in the decision's transaction; the job signs and POSTs it, retrying with
// backoff until the gateway answers 2xx. Each attempt is a new signed request (a new request id: the
// gateway consumes every id it verified); the row id travels in the body as callback_id, stable across
// retries, so that the gateway can dedupe.
import { eq } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import { signedRequestHeaders } from '../../platform/http/signed-request.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import type { DeclineReason } from '../domain/authorization.machine.ts';
import { gatewayCallbacks } from './bank.schema.ts';
import { BANK_TASKS } from './bank-settings.ts';

export type CallbackBody =
  | { type: 'authorization.approved'; authorization_id: string; gateway_ref: string }
  | { type: 'authorization.declined'; authorization_id: string; gateway_ref: string; decline_reason: DeclineReason };
/** What is sent: the callback's own id first, for the gateway's dedupe. */
export type CallbackMessage = { callback_id: string } & CallbackBody;

/** Writes the callback and its delivery job in the caller's transaction. */
export async function enqueueCallback(tx: Executor, body: CallbackBody, clock: Clock): Promise<string> {
  const now = clock.now();
  const id = newId('bcb', now);
  await tx.insert(gatewayCallbacks).values({
    id,
    authorizationId: body.authorization_id,
    body: JSON.stringify({ callback_id: id, ...body } satisfies CallbackMessage),
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
  // A row written before callbacks carried their id gets it at delivery time.
  const body = row.body.startsWith('{"callback_id"') ? row.body : JSON.stringify({ callback_id: row.id, ...(JSON.parse(row.body) as CallbackBody) });
  const headers = signedRequestHeaders({ method: 'POST', url: target.url, body, secrets: target.secrets, clock });
  let failure: string | undefined;
  try {
    const response = await (target.fetch ?? fetch)(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
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
