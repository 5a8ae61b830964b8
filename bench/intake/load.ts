// Fires correctly signed `payment.authorized` deliveries at the shop, the way the gateway sends them
// (src/gateway/storage/events.ts builds the body, src/gateway/jobs/deliver-webhook.ts signs the exact
// bytes with Standard Webhooks), each for a distinct pre-created invoice, with a fixed number in flight.
import { Agent, request } from 'node:http';
import { newId } from '../../src/core/ids.ts';
import { signWebhook } from '../../src/core/webhook-signature.ts';
import type { SeededBatch } from './seed.ts';

export interface LoadResult {
  readonly concurrency: number;
  /** Deliveries answered 2xx (accepted by the shop). */
  readonly accepted: number;
  /** Deliveries answered otherwise, or failed on the wire. */
  readonly errors: number;
  readonly errorSamples: string[];
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** True when the batch ran out before the time was up (the rate is still measured over `seconds`). */
  readonly exhausted: boolean;
  /** Verdicts the shop answered, by name (all 'accepted' when every delivery was new and valid). */
  readonly verdicts: Record<string, number>;
}

/** The session's sequence when the gateway authorises: created (1), processing (2), authorized (3). */
const AUTHORIZED_SEQUENCE = 3;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** The body our gateway sends for an authorisation (EventPayload), as exact bytes. */
export function authorizedBody(batch: SeededBatch, index: number, now: Date): { id: string; body: string } {
  const inv = batch.invoices[index]!;
  const id = newId('evt', now);
  const payload = {
    id,
    type: 'payment.authorized',
    created_at: now.toISOString(),
    data: {
      session_id: inv.sessionId,
      merchant_reference: inv.invoiceId,
      amount: { minor: batch.amount.minor, currency: batch.amount.currency },
      status: 'authorized',
      sequence: AUTHORIZED_SEQUENCE,
      // As the gateway's news names the card that paid (kept on the attempt for the receipt).
      card: { brand: 'visa', last4: '4242' },
    },
  };
  return { id, body: JSON.stringify(payload) };
}

function post(
  agent: Agent,
  url: URL,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'countersign-gateway/1',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Runs `concurrency` senders for `seconds` (or until the batch's invoices from `startIndex` are used up);
 * each sender signs a fresh delivery, waits for the answer, and sends the next.
 */
export async function fireDeliveries(input: {
  shopUrl: string;
  secret: string;
  batch: SeededBatch;
  startIndex?: number;
  concurrency: number;
  seconds: number;
}): Promise<LoadResult & { nextIndex: number }> {
  const url = new URL('/webhooks/gateway', input.shopUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: input.concurrency });
  const latencies = new Float64Array(input.batch.count);
  let n = 0;
  let next = input.startIndex ?? 0;
  let accepted = 0;
  let errors = 0;
  let exhausted = false;
  const errorSamples: string[] = [];
  const verdicts: Record<string, number> = {};
  const started = performance.now();
  const deadline = started + input.seconds * 1000;

  const sender = async () => {
    while (performance.now() < deadline) {
      if (next >= input.batch.count) {
        exhausted = true;
        return;
      }
      const index = next++;
      const now = new Date();
      const { id, body } = authorizedBody(input.batch, index, now);
      const headers = signWebhook({ id, timestamp: now, body, secrets: [input.secret] }) as unknown as Record<
        string,
        string
      >;
      const t0 = performance.now();
      try {
        const res = await post(agent, url, headers, body);
        latencies[n++] = performance.now() - t0;
        if (res.status >= 200 && res.status < 300) {
          accepted++;
          const verdict = (JSON.parse(res.text) as { verdict?: string }).verdict ?? '?';
          verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;
        } else {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`${res.status} ${res.text.slice(0, 200)}`);
        }
      } catch (err) {
        latencies[n++] = performance.now() - t0;
        errors++;
        if (errorSamples.length < 5) errorSamples.push(String((err as Error).message));
      }
    }
  };
  await Promise.all(Array.from({ length: input.concurrency }, sender));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = latencies.slice(0, n).sort();
  return {
    concurrency: input.concurrency,
    accepted,
    errors,
    errorSamples,
    seconds,
    perSecond: accepted / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    exhausted,
    verdicts,
    nextIndex: next,
  };
}
