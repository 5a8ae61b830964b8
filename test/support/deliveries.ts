// Whether the shop accepted the gateway's webhooks of a payment: read from the gateway's own record of
// its deliveries (status and the shop's HTTP answer), since a payment can end captured without them
// (the shop's reconciliation reads the status and acknowledges through the API).
import assert from 'node:assert/strict';
import type { PartyProcesses } from './harness/processes.ts';

/** Waits until every native delivery of the session's events is delivered; fails unless each took one attempt answered 2xx. */
export async function deliveredFirstTime(system: PartyProcesses, sessionId: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const rows = await system.query<{
      type: string;
      status: string;
      attempts: number;
      last_status_code: number | null;
    }>(
      'gateway',
      `select e.type, d.status, d.attempts, d.last_status_code
         from webhook_deliveries d join events e on e.id = d.event_id
        where e.session_id = $1 and d.webhook_endpoint_id is null order by e.created_at`,
      [sessionId],
    );
    const refused = rows.filter(
      (r) => r.last_status_code !== null && (r.last_status_code < 200 || r.last_status_code >= 300),
    );
    assert.deepEqual(refused, [], `the shop refused a webhook of ${sessionId}`);
    if (rows.length >= 2 && rows.every((r) => r.status === 'delivered')) {
      for (const r of rows) assert.equal(r.attempts, 1, `${r.type} was accepted at its first attempt`);
      return;
    }
    if (Date.now() > end) assert.fail(`the webhooks of ${sessionId} were not delivered: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
