// The merchant sends a test event to its webhook endpoint from the dashboard: a `webhook.test` event
// signed like every delivery (Standard Webhooks headers, each active signing secret), sent once now
// through the outbound guard, and its answer (status, latency, start of the body) returned to show.
// It is not a payment event: it is neither stored in the event feed nor retried, and its answer
// acknowledges nothing.
import { newId } from '../../core/ids.ts';
import { signWebhook } from '../../core/webhook-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { activeSecrets, findMerchant } from '../storage/merchants.ts';

export type TestDelivery =
  | { verdict: 'sent'; eventId: string; url: string; status: number; latencyMs: number; excerpt: string }
  | { verdict: 'failed'; eventId: string; url: string; error: string; latencyMs: number }
  | { verdict: 'no_endpoint' };

/** Sends one signed test event to the merchant's endpoint and reports its answer. */
export async function sendTestWebhook(
  deps: { database: Database; clock: Clock; fetch: typeof fetch; timeoutMs?: number },
  merchantId: string,
): Promise<TestDelivery> {
  const merchant = await findMerchant(deps.database.db, merchantId);
  if (!merchant?.webhookUrl) return { verdict: 'no_endpoint' };
  const now = deps.clock.now();
  const eventId = newId('evt', now);
  const body = JSON.stringify({
    id: eventId,
    type: 'webhook.test',
    created_at: now.toISOString(),
    data: { merchant_id: merchant.id, note: 'A test event sent from the dashboard. It is about no payment.' },
  });
  const headers = signWebhook({
    id: eventId,
    timestamp: now,
    body,
    secrets: await activeSecrets(deps.database.db, merchantId, now),
  });
  const started = performance.now();
  const url = merchant.webhookUrl;
  try {
    const res = await deps.fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'countersign-gateway/1' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
    });
    const excerpt = (await res.text()).slice(0, 200);
    return {
      verdict: 'sent',
      eventId,
      url,
      status: res.status,
      latencyMs: Math.round(performance.now() - started),
      excerpt,
    };
  } catch (err) {
    const code = (err as { cause?: { code?: unknown } }).cause?.code;
    const error = typeof code === 'string' ? code : err instanceof Error ? err.name : 'error';
    return { verdict: 'failed', eventId, url, error, latencyMs: Math.round(performance.now() - started) };
  }
}
