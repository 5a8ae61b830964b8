// Delivering one callback of the outbox (enqueue-callback.ts writes them): the job signs and POSTs
// it, retrying with backoff until the gateway answers 2xx. Each attempt is a new signed request (a
// new request id: the gateway consumes every id it verified); the body's callback_id stays the same.
// This is the one writer of gateway_callbacks.status. The row is not locked across the POST (a row
// lock held over a network call would stall every other reader); the machine decides on the state
// read before it, and the UPDATE is guarded by that state, so a second delivery cannot write twice.
import { and, eq } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { signedRequestHeaders } from '../../platform/http/signed-request.ts';
import { callbackMachine, type CallbackStatus } from '../domain/callback.machine.ts';
import { gatewayCallbacks } from '../storage/tables.ts';
import type { CallbackBody } from './enqueue-callback.ts';

export interface CallbackTarget {
  readonly url: string;
  readonly secrets: readonly string[];
  /** Seconds to wait for the gateway's answer. */
  readonly timeoutSeconds?: number;
  /** The platform's outbound client (verifies the gateway's certificate against the configured CA). */
  readonly fetch?: typeof fetch;
}

/** Delivers one callback (a job handler); throws to be retried when the gateway does not answer 2xx. */
export async function deliverCallback(
  database: Database,
  callbackId: string,
  target: CallbackTarget,
  clock: Clock,
): Promise<void> {
  const [row] = await database.db.select().from(gatewayCallbacks).where(eq(gatewayCallbacks.id, callbackId));
  if (!row) return;
  const delivered = callbackMachine.transition(row.status as CallbackStatus, 'deliver');
  if (!delivered.ok) return; // delivered already
  // A row written before callbacks carried their id gets it at delivery time.
  const body = row.body.startsWith('{"callback_id"')
    ? row.body
    : JSON.stringify({ callback_id: row.id, ...(JSON.parse(row.body) as CallbackBody) });
  const headers = signedRequestHeaders({ method: 'POST', url: target.url, body, secrets: target.secrets, clock });
  let failure: string | undefined;
  try {
    const response = await (target.fetch ?? fetch)(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout((target.timeoutSeconds ?? 10) * 1000),
      // Signed for its URL only: a redirect is not followed, and is not a 2xx.
      redirect: 'manual',
    });
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) failure = `gateway answered ${response.status}`;
  } catch (err) {
    failure = `gateway unreachable: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (failure === undefined) {
    await database.db
      .update(gatewayCallbacks)
      .set({ status: delivered.state, deliveredAt: clock.now(), attempts: row.attempts + 1, lastError: null })
      .where(and(eq(gatewayCallbacks.id, row.id), eq(gatewayCallbacks.status, row.status)));
    return;
  }
  await database.db
    .update(gatewayCallbacks)
    .set({ attempts: row.attempts + 1, lastError: failure })
    .where(eq(gatewayCallbacks.id, row.id));
  throw new Error(failure);
}
