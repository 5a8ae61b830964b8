// The receipts of the measured window: whether the shop sends its mail as fast as it takes payments.
//
// Every paid order owes its customer a receipt (the intake queues it in the payment's transaction; the
// send job renders it, asks the gateway for the card and hands it to SMTP). A shop whose mail falls
// behind under load does that work after the window instead of in it, and its CPU per paid order
// then looks lower than it is: the figures below say whether the window holds the mail it owes.
import pg from 'pg';
import { summarize, type Summary } from './stats.ts';

export interface MailResult {
  /** Receipts queued in the window (one per order paid in it). */
  readonly queuedInWindow: number;
  /** Of those, sent before the window ended. */
  readonly sentInWindow: number;
  /** Receipts queued (in the warm-up or the window) and not yet sent when the window ended. */
  readonly backlogAtEnd: number;
  /** From the receipt queued (the payment's commit) to sent, for those sent in the window. */
  readonly latency: Summary | null;
}

/** Reads the shop's mail table after the flow, for the window [from, to] (this machine's clock, as the shop's). */
export async function mailResult(shopDatabaseUrl: string, from: Date, to: Date): Promise<MailResult> {
  const client = new pg.Client({ connectionString: shopDatabaseUrl });
  await client.connect();
  try {
    const counts = await client.query<{ queued: string; sent: string; backlog: string }>(
      `select count(*) filter (where created_at >= $1) as queued,
              count(*) filter (where created_at >= $1 and sent_at <= $2) as sent,
              count(*) filter (where sent_at is null or sent_at > $2) as backlog
         from shop_mails where kind = 'receipt' and created_at <= $2`,
      [from, to],
    );
    const waits = await client.query<{ ms: number }>(
      `select extract(epoch from sent_at - created_at) * 1000 as ms
         from shop_mails where kind = 'receipt' and created_at >= $1 and sent_at <= $2`,
      [from, to],
    );
    const row = counts.rows[0]!;
    const samples = waits.rows.map((r) => Number(r.ms));
    return {
      queuedInWindow: Number(row.queued),
      sentInWindow: Number(row.sent),
      backlogAtEnd: Number(row.backlog),
      latency: samples.length ? summarize(samples) : null,
    };
  } finally {
    await client.end();
  }
}
